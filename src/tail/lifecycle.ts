import { FINGERPRINT_BYTES, fingerprintOf, matchesHead, readHead } from '../identity/fingerprint.js';
import { plainSource } from './chunk-source.js';
import type { TailContext } from './context.js';
import type { Lane } from './file-table.js';
import type { TailFile } from './fs.js';
import { liveFromRecord, newRecord, type LiveStream } from './stream.js';

// The transitions of a live entry that both the poll (follow.ts) and the read loop (reader.ts) make.

/** A new file at the lane's path: a new record and stream, read from 0. */
export async function openActive(ctx: TailContext, lane: Lane): Promise<void> {
  let fh: TailFile;
  try {
    fh = await ctx.fs.open(lane.activePath);
  } catch (e) {
    lane.missingCode = (e as NodeJS.ErrnoException).code;
    if (lane.warned !== 'open') {
      ctx.signals.warn({ input: lane.input.key, file: lane.activePath, err: (e as Error).message }, 'cannot open the file: check permissions; will retry');
      lane.warned = 'open';
    }
    return;
  }
  if (lane.warned === 'open') {
    ctx.signals.info({ file: lane.activePath }, 'file is readable again');
    lane.warned = undefined;
  }
  const st = await fh.stat();
  const head = await readHead(fh);
  const rec = newRecord(lane.input.key, lane.activePath, lane.activePath, st, fingerprintOf(head), 0, ctx.now());
  ctx.table.records.set(rec.id, rec);
  const s = liveFromRecord(rec, 0, ctx.o.maxLineBytes);
  s.fh = fh;
  s.src = plainSource(fh, 0, ctx.scratch);
  ctx.hooks.onStreamOpen(rec, 0, []);
  lane.queue.push(s);
  lane.active = s;
  ctx.signals.debug({ file: lane.activePath, stream: rec.id }, 'new file');
}

/** For the active stream: does the file still start with the bytes it was identified by? Grows the fingerprint. */
export async function sameContent(s: LiveStream): Promise<boolean> {
  const fp = s.rec.fp;
  if (s.rec.size === 0 && fp.len === 0) return true;
  const head = await readHead(s.fh!, Math.min(FINGERPRINT_BYTES, Math.max(fp.len, s.rec.size)));
  if (fp.len > 0 && !matchesHead(fp, head)) return false;
  if (head.length > fp.len) s.rec.fp = fingerprintOf(head);
  return true;
}

/** No more bytes will come from this stream: the partial last line, if any, is final (unless `replaced`). */
export function finish(ctx: TailContext, lane: Lane, s: LiveStream, end: number, replaced: boolean): void {
  if (!replaced) {
    const last = s.framer.flush(end);
    if (last) ctx.hooks.onLine(lane, s.rec, last);
  }
  s.rec.size = Math.max(s.rec.size, end);
  s.rec.state = 'rotated';
  ctx.hooks.onStreamEnd(s.rec);
  void s.src?.close().catch(() => undefined);
}

/** The active file was truncated or rewritten in place (copytruncate): what was not read is lost; a new stream. */
export function truncated(ctx: TailContext, lane: Lane, a: LiveStream, size: number): void {
  const lost = Math.max(0, a.rec.size - a.src!.position);
  ctx.signals.warn({ file: lane.activePath, offset: a.src!.position, size }, 'file was truncated or rewritten in place (copytruncate?): reading it again from the start');
  if (lost > 0) ctx.signals.bytesLost(lost);
  finish(ctx, lane, a, a.src!.position, true);
  lane.queue = lane.queue.filter((s) => s !== a);
  lane.active = undefined;
}

/**
 * Before unknown backups are matched by content: the fingerprint of a live plain stream still short (opened
 * when the file was nearly empty) is grown from its fd, so that its file renamed and gzipped before it was read
 * is recognised and not read a second time from the `.gz`.
 */
export async function growFingerprint(s: LiveStream): Promise<void> {
  const fp = s.rec.fp;
  if (!s.fh || fp.len >= FINGERPRINT_BYTES) return;
  const head = await readHead(s.fh);
  if (head.length > fp.len && matchesHead(fp, head)) s.rec.fp = fingerprintOf(head);
}
