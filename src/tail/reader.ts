import { FINGERPRINT_BYTES, fingerprintOf, readHead } from '../identity/fingerprint.js';
import type { GzipSource } from './chunk-source.js';
import type { TailContext } from './context.js';
import type { Lane } from './file-table.js';
import { finish, openActive, sameContent, truncated } from './lifecycle.js';
import { liveFromRecord, type LiveStream } from './stream.js';

/**
 * The hot path: reads a lane's queue in order (oldest stream first) within the pass budget and frames chunks
 * into lines at exact offsets. Returns the bytes read.
 */
export async function pumpLane(ctx: TailContext, lane: Lane): Promise<number> {
  const { o, hooks } = ctx;
  let bytes = 0;
  while (lane.queue.length > 0 && bytes < o.passBytes && hooks.canRead()) {
    const s = lane.queue[0]!;
    if (!s.src && s.gzFile && !(await openGzip(ctx, s))) return bytes;
    const at = s.src!.position;
    const chunk = await s.src!.read();
    if (chunk && s === lane.active && at > 0 && at >= s.rec.fp.len && !(await sameContent(s))) {
      // Truncated and written again since the last look: this chunk may come from the middle of new content.
      truncated(ctx, lane, s, (await s.fh!.stat()).size);
      await openActive(ctx, lane);
      continue;
    }
    if (chunk) {
      bytes += chunk.length;
      ctx.signals.bytesRead(chunk.length);
      if (at + chunk.length > s.rec.size) s.rec.size = at + chunk.length;
      if (s.rec.fp.len < FINGERPRINT_BYTES && at <= s.rec.fp.len) {
        // Grow the identity while the head is at hand: a file renamed and gzipped before the next poll is
        // then still recognised by content (an empty file's fingerprint matches nothing).
        const head = s.fh ? await readHead(s.fh) : at === 0 ? chunk : undefined;
        if (head && head.length > s.rec.fp.len) s.rec.fp = fingerprintOf(head);
      }
      s.framer.push(chunk, at, (line) => hooks.onLine(lane, s.rec, line));
      continue;
    }
    if (s === lane.active) break; // caught up with the writer
    lane.queue.shift();
    if (!s.gzFile) {
      s.lingerUntil = ctx.now() + o.lingerMs;
      lane.lingering.push(s);
      // The next stream must not wait for the linger: its lines go to a new batch, which seals this one.
      hooks.onStreamEnd(s.rec);
    } else if (!endGzip(ctx, lane, s)) break;
  }
  return bytes;
}

/** A `.gz` read to its end: finished, lost (deleted before it was read), or not complete yet (false: retry later). */
function endGzip(ctx: TailContext, lane: Lane, s: LiveStream): boolean {
  const gz = s.src as GzipSource;
  if (!gz.complete && (gz.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    // Deleted (maxbackup) before we got to it: what was not read is gone. Say so, count it, move on.
    const lost = Math.max(0, s.rec.size - gz.position);
    ctx.signals.bytesLost(lost);
    ctx.signals.error(
      { file: s.gzFile, offset: gz.position, bytesLost: lost },
      'compressed backup was deleted before it was read to its end: its unread events are lost (raise --audit-log-maxbackup or keep tailship running)',
    );
    finish(ctx, lane, s, gz.position, true);
    return true;
  }
  if (!gz.complete) {
    // Still being written by lumberjack's mill, or damaged: try again on a later pass.
    ctx.signals.debug({ file: s.gzFile, err: gz.error?.message }, 'gzip backup not complete yet; will retry');
    void gz.close();
    s.src = undefined;
    s.framer = liveFromRecord(s.rec, s.framer.pendingStart, ctx.o.maxLineBytes).framer;
    lane.queue.unshift(s);
    return false;
  }
  finish(ctx, lane, s, gz.position, false);
  return true;
}

async function openGzip(ctx: TailContext, s: LiveStream): Promise<boolean> {
  const plain = s.gzFile!.slice(0, -3);
  if (await ctx.fs.stat(plain).then(() => true, () => false)) return false; // mill still compressing: its plain twin is read first
  s.src = ctx.fs.gzipSource(s.gzFile!, s.framer.pendingStart);
  return true;
}
