import path from 'node:path';
import { isBackupOf } from '../discover/rotation-names.js';
import { plainSource } from './chunk-source.js';
import type { TailContext } from './context.js';
import type { Lane } from './file-table.js';
import type { FileStat, TailFile } from './fs.js';
import { finish, growFingerprint, openActive, sameContent, truncated } from './lifecycle.js';
import { checkActive, checkLingering, planAdopt, type BackupSeen } from './planner.js';
import { backupsIn, seeBackup } from './resume.js';
import { liveFromRecord, newRecord } from './stream.js';
import type { Seen } from './identify.js';

export const MISSING_MSG = 'file does not exist (yet): waiting for it; check the path and --host-root if it never appears';

/** A planned lane on a poll: rotation, truncation, a new active file, lingering files read again or closed. */
export async function followLane(ctx: TailContext, lane: Lane): Promise<void> {
  let st: FileStat | undefined;
  try {
    st = await ctx.fs.stat(lane.activePath);
    if (lane.warned === 'missing') lane.warned = undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (lane.warned !== 'missing' && !lane.active && lane.queue.length === 0) {
      ctx.signals.warn(
        { input: lane.input.key, file: lane.activePath, code },
        code === 'ENOENT' ? MISSING_MSG : 'cannot stat the file: check permissions (tailship needs read access to the file and its directory)',
      );
      lane.warned = 'missing';
    }
  }
  const a = lane.active;
  if (a) {
    const held = await a.fh!.stat();
    a.rec.size = held.size;
    const verdict = checkActive(st, held, a.src!.position);
    if (verdict === 'rotated') {
      a.rec.state = 'rotated';
      lane.active = undefined;
      ctx.signals.debug({ file: lane.activePath, stream: a.rec.id }, 'file rotated; reading the renamed file to its end');
    } else if (verdict === 'truncated' || !(await sameContent(a))) {
      truncated(ctx, lane, a, held.size);
    }
  }
  if (!lane.active && st) await openActive(ctx, lane);
  // a file that exists and cannot be opened lags by its size (a directory there is no file: no lag)
  lane.unreadSize = !lane.active && st && lane.missingCode !== 'EISDIR' ? st.size : undefined;
  // Lingering rotated files: read what a late writer added, close once quiet.
  const now = ctx.now();
  for (const s of [...lane.lingering]) {
    const size = (await s.fh!.stat()).size;
    const verdict = checkLingering(size, s.src!.position, now, s.lingerUntil);
    if (verdict === 'wait') continue;
    lane.lingering = lane.lingering.filter((x) => x !== s);
    if (verdict === 'grew') {
      s.rec.size = size;
      s.lingerUntil = now + ctx.o.lingerMs;
      lane.queue.unshift(s);
    } else finish(ctx, lane, s, size, false);
  }
}

/** Backups written between two polls (tail/planner.ts planAdopt): read them before the new active file. */
export async function adoptBackups(ctx: TailContext, lane: Lane): Promise<void> {
  const dir = path.dirname(lane.activePath);
  const names = (await ctx.listing(dir)) ?? [];
  const present = new Set(names);
  const mine = ctx.table.recordsOf(lane);
  const knownFiles = new Set(mine.map((r) => r.file));
  const seen: Array<BackupSeen & { seen: Seen; fh?: TailFile }> = [];
  for (const b of backupsIn(names, dir, path.basename(lane.activePath))) {
    if (knownFiles.has(b.file)) continue;
    if (b.gz && (present.has(b.name.slice(0, -3)) || knownFiles.has(b.file.slice(0, -3)))) continue; // its plain twin stands for it
    const s = await seeBackup(ctx, b.file, b.gz);
    if (s.seen) seen.push(s as BackupSeen & { seen: Seen; fh?: TailFile }); // else gone already, or unreadable: the next poll says which
  }
  if (seen.some((b) => b.gz)) for (const s of [...lane.queue, ...lane.lingering]) await growFingerprint(s);
  for (const act of planAdopt(mine, seen, lane.active?.rec.id)) {
    const fh = seen.find((s) => s.file === (act.kind === 'renamed' ? act.file : act.fresh.file))?.fh;
    if (act.kind === 'renamed') {
      act.rec.file = act.file;
      await fh?.close();
      if (act.wasActive) {
        // Renamed since the stat of this pass: it is rotated now, so backups newer than it queue after it.
        act.rec.state = 'rotated';
        lane.active = undefined;
      }
      continue;
    }
    const f = act.fresh;
    const rec = newRecord(lane.input.key, lane.activePath, f.file, f.st, f.fp, 0, ctx.now());
    rec.state = 'rotated';
    ctx.table.records.set(rec.id, rec);
    const s = liveFromRecord(rec, 0, ctx.o.maxLineBytes);
    if (f.gz) s.gzFile = f.file;
    else {
      s.fh = fh;
      s.src = plainSource(fh!, 0, ctx.scratch);
    }
    ctx.hooks.onStreamOpen(rec, 0, []);
    const at = lane.active ? lane.queue.indexOf(lane.active) : -1;
    if (at >= 0) lane.queue.splice(at, 0, s);
    else lane.queue.push(s);
    ctx.signals.debug({ file: f.file, stream: rec.id }, 'backup written between two polls: reading it before the new file');
  }
}

/** Keeps each record's file name current (rename, gzip) and drops records whose file is gone and done. */
export async function trackHistory(ctx: TailContext): Promise<void> {
  const live = ctx.table.liveIds();
  const { records } = ctx.table;
  for (const r of records.values()) {
    if (r.state === 'active' && live.has(r.id)) continue;
    const dir = path.dirname(r.lane);
    const names = await ctx.listing(dir);
    if (!names) continue;
    const have = new Set(names);
    const name = path.basename(r.file);
    if (have.has(name) && r.file !== r.lane) continue;
    if (!r.file.endsWith('.gz') && have.has(`${name}.gz`) && !have.has(name)) {
      r.file = `${r.file}.gz`;
      continue;
    }
    // Renamed: look for its inode among the lane's backups.
    const base = path.basename(r.lane);
    let found = false;
    for (const n of names) {
      const b = isBackupOf(n, base);
      if (!b || b.gz) continue;
      const st = await ctx.fs.stat(path.join(dir, n)).catch(() => undefined);
      if (st && st.ino === r.ino && st.dev === r.dev) {
        r.file = path.join(dir, n);
        found = true;
        break;
      }
    }
    if (found || live.has(r.id)) continue;
    if (r.state === 'done' && ctx.acks.settled(r.id)) {
      records.delete(r.id);
      ctx.acks.forget(r.id);
    }
  }
  // Finished streams become done once every byte is acknowledged.
  for (const r of records.values()) {
    if (r.state === 'rotated' && !live.has(r.id) && ctx.acks.settled(r.id)) r.state = 'done';
  }
}
