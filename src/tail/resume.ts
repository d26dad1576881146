import path from 'node:path';
import { isBackupOf } from '../discover/rotation-names.js';
import { readHead } from '../identity/fingerprint.js';
import type { StreamRecord } from '../identity/stream-record.js';
import { plainSource } from './chunk-source.js';
import type { TailContext } from './context.js';
import type { Lane } from './file-table.js';
import type { FileStat, TailFile } from './fs.js';
import { planResume, type ActiveSeen, type BackupSeen, type NewFile, type ResumeAction } from './planner.js';
import { reportGoneRead, reportLosses, type Loss } from './loss.js';
import { liveFromRecord, newRecord } from './stream.js';

/** A lane's backups in a listing, oldest first (a plain file before its `.gz` of the same stamp). */
export function backupsIn(names: string[], dir: string, base: string): Array<{ file: string; name: string; gz: boolean; stamp: string }> {
  const out: Array<{ file: string; name: string; gz: boolean; stamp: string }> = [];
  for (const name of names) {
    const b = isBackupOf(name, base);
    if (b) out.push({ file: path.join(dir, name), name, gz: b.gz, stamp: b.stamp });
  }
  return out.sort((a, b) => (a.stamp < b.stamp ? -1 : a.stamp > b.stamp ? 1 : Number(a.gz) - Number(b.gz)));
}

/** Opens and reads the head of a backup (`fh` stays open for a plain file, to be read or closed). */
export async function seeBackup(ctx: TailContext, file: string, gz: boolean): Promise<BackupSeen & { fh?: TailFile; code?: string }> {
  if (gz) return { file, gz, seen: { head: await ctx.fs.gzipHead(file) } };
  let fh: TailFile | undefined;
  try {
    fh = await ctx.fs.open(file);
    const st = await fh.stat();
    return { file, gz, seen: { st, head: await readHead(fh) }, fh };
  } catch (e) {
    await fh?.close().catch(() => undefined);
    return { file, gz, error: (e as Error).message, code: (e as NodeJS.ErrnoException).code };
  }
}

async function seeActive(ctx: TailContext, file: string): Promise<ActiveSeen & { fh?: TailFile }> {
  let fh: TailFile | undefined;
  try {
    fh = await ctx.fs.open(file);
    const st = await fh.stat();
    return { seen: { st, head: await readHead(fh) }, fh };
  } catch (e) {
    await fh?.close().catch(() => undefined);
    return { code: (e as NodeJS.ErrnoException).code, error: (e as Error).message };
  }
}

/** On first sight of a lane: observe its files, plan (tail/planner.ts), then execute the plan. */
export async function resumeLane(ctx: TailContext, lane: Lane, startup: boolean): Promise<void> {
  const records = ctx.table.claim(lane);
  // The active file is opened before the directory is listed: listed first, a rotation in between would hide
  // the checkpointed file (in no backup listed, not at the path), which the next poll would adopt as new.
  const active = await seeActive(ctx, lane.activePath);
  const backups = await seeBackups(ctx, lane, active.seen?.st);
  const fhOf = new Map<string, TailFile | undefined>(backups.map((b) => [b.file, b.fh]));
  fhOf.set(lane.activePath, active.fh);
  const actions = planResume({ records, backups, active, startup, backfill: ctx.o.backfill, startAt: ctx.o.startAt });
  const plan = await execute(ctx, lane, actions, fhOf);
  for (const p of plan) {
    const s = liveFromRecord(p.rec, p.start, ctx.o.maxLineBytes);
    if (p.gz) s.gzFile = p.rec.file;
    else {
      s.fh = fhOf.get(p.rec.file);
      s.src = plainSource(s.fh!, p.start, ctx.scratch);
    }
    ctx.hooks.onStreamOpen(p.rec, p.start, p.rec.offset === p.start ? p.rec.sealed : []);
    lane.queue.push(s);
    if (p.active) lane.active = s;
  }
  if (plan.length > 0) {
    ctx.signals.info(
      { input: lane.input.key, file: lane.activePath, streams: plan.map((p) => ({ file: p.rec.file, from: p.start })) },
      records.length === 0 ? 'following file' : 'resuming from checkpoint',
    );
  }
}

/**
 * The lane's backups, oldest first, listed now. The listing is no snapshot: a plain backup gone when it is opened
 * was compressed since (lumberjack's mill unlinks it only once its `.gz` is complete: that is observed instead)
 * or deleted; a backup that is the file opened as the active one was renamed since: it is read as the active
 * stream, and the poll that follows sees the rotation.
 */
async function seeBackups(ctx: TailContext, lane: Lane, activeSt: FileStat | undefined): Promise<Array<BackupSeen & { fh?: TailFile }>> {
  const dir = path.dirname(lane.activePath);
  const all = backupsIn((await ctx.listing(dir, true)) ?? [], dir, path.basename(lane.activePath));
  const names = new Set(all.map((c) => c.file));
  const out: Array<BackupSeen & { fh?: TailFile }> = [];
  for (const c of all) {
    if (c.gz && names.has(c.file.slice(0, -3))) continue; // the plain twin is read instead
    let b = await seeBackup(ctx, c.file, c.gz);
    if (b.code === 'ENOENT' && !c.gz) {
      const gz = `${c.file}.gz`;
      if (!(await ctx.fs.stat(gz).then(() => true, () => false))) continue; // deleted: its record says what is lost
      b = await seeBackup(ctx, gz, true);
    }
    const st = b.seen?.st;
    if (st && activeSt && st.ino === activeSt.ino && st.dev === activeSt.dev) {
      await b.fh?.close();
      continue;
    }
    out.push(b);
  }
  return out;
}

type Planned = { rec: StreamRecord; start: number; gz: boolean; active: boolean };

/** Carries out the planner's actions: signals, records into the table; returns the streams to open, in order. */
async function execute(ctx: TailContext, lane: Lane, actions: ResumeAction[], fhOf: Map<string, TailFile | undefined>): Promise<Planned[]> {
  const plan: Planned[] = [];
  const losses: Loss[] = [];
  const make = (f: NewFile, file: string): StreamRecord => {
    const rec = newRecord(lane.input.key, lane.activePath, file, f.st, f.fp, f.offset, ctx.now());
    rec.size = f.size;
    rec.state = f.state;
    return rec;
  };
  for (const a of actions) {
    switch (a.kind) {
      case 'unreadable':
        ctx.signals.warn({ file: a.file, err: a.error }, 'cannot open a rotated backup; skipping it');
        break;
      case 'cannot-open':
        // One line per problem: openActive, which retries, says nothing more while it is the same one.
        if (lane.warned !== 'open') ctx.signals.warn({ input: lane.input.key, file: lane.activePath, err: a.error }, 'cannot open the file: check permissions; will retry');
        lane.warned = 'open';
        break;
      case 'shorter':
        ctx.signals.warn({ file: lane.activePath, offset: a.rec.offset, size: a.size }, 'file is shorter than its checkpoint: truncated while stopped; reading it from the start');
        break;
      case 'lost':
        losses.push({ rec: a.rec, bytes: a.bytes });
        break;
      case 'gone-read':
        reportGoneRead(ctx, lane, a.rec);
        break;
      case 'resume':
      case 'new': {
        const file = a.active ? lane.activePath : a.kind === 'resume' ? a.file : a.fresh.file;
        const rec = a.kind === 'resume' ? a.rec : make(a.fresh, file);
        rec.file = file;
        if (a.kind === 'resume') rec.state = a.active ? 'active' : a.read ? 'rotated' : rec.state;
        ctx.table.records.set(rec.id, rec);
        if (a.read) plan.push({ rec, start: a.kind === 'resume' ? a.start : a.fresh.offset, gz: a.kind === 'resume' ? a.gz : a.fresh.gz, active: a.active });
        else await fhOf.get(file)?.close();
        break;
      }
    }
  }
  // The first file read from its start holds the first event after the gap.
  const next = plan.find((p) => p.start === 0);
  await reportLosses(ctx, lane, losses, next && { fh: fhOf.get(next.rec.file), gz: next.gz });
  return plan;
}
