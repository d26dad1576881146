import type { StreamRecord } from '../identity/stream-record.js';
import { parseLine } from '../parse/parse-line.js';
import type { TailContext } from './context.js';
import type { Lane } from './file-table.js';
import type { TailFile } from './fs.js';

/** A checkpointed file gone unread while tailship was stopped (planner's `lost`). */
export interface Loss {
  rec: StreamRecord;
  /** Bytes known lost; undefined: written after the last checkpoint, amount unknown. */
  bytes: number | undefined;
}

const FIRST_LINE_BYTES = 64 * 1024;

/**
 * SPEC §7: one error line per lost file naming the file, the bytes (or "unknown") and the missing window of the
 * audit trail — the event time of the last event committed before the gap (kept in the record) and of the first
 * event after it (the first line of the first file read from its start, when there is one).
 */
export async function reportLosses(ctx: TailContext, lane: Lane, losses: Loss[], next: { fh?: TailFile; gz: boolean } | undefined): Promise<void> {
  if (losses.length === 0) return;
  const after = next?.fh && !next.gz ? await firstEventMs(next.fh, lane.input.json, ctx.now()) : undefined;
  for (const { rec, bytes } of losses) {
    if (bytes !== undefined) ctx.signals.bytesLost(bytes);
    ctx.signals.fileLost?.(lane.input.key);
    const window = { lastEventBefore: iso(rec.lastEventMs), firstEventAfter: iso(after) };
    ctx.signals.error(
      { input: lane.input.key, file: rec.file, stream: rec.id, offset: rec.offset, lastSize: rec.size, bytesLost: bytes ?? 'unknown', ...window },
      `file was deleted (rotated away) before it was read to its end: ${bytes !== undefined ? `at least ${bytes} bytes` : 'an unknown number of bytes (written after the last checkpoint)'} lost; ` +
        `audit events missing between ${window.lastEventBefore} and ${window.firstEventAfter} (raise --audit-log-maxbackup or keep tailship running)`,
    );
  }
}

/** A rotated file read and acknowledged to its end was deleted while stopped: no loss, nothing above info. */
export function reportGoneRead(ctx: TailContext, lane: Lane, rec: StreamRecord): void {
  ctx.signals.info({ input: lane.input.key, file: rec.file, stream: rec.id }, 'a backup read to its end was deleted while tailship was stopped (no loss)');
}

function iso(ms: number | undefined): string {
  return ms === undefined ? 'unknown' : new Date(ms).toISOString();
}

/** Event time of the first non-empty line of a file (read from 0 through its held fd). */
async function firstEventMs(fh: TailFile, json: boolean, now: number): Promise<number | undefined> {
  const buf = Buffer.allocUnsafe(FIRST_LINE_BYTES);
  const { bytesRead } = await fh.read(buf, 0, buf.length, 0).catch(() => ({ bytesRead: 0 }));
  for (const text of buf.toString('utf8', 0, bytesRead).split('\n').slice(0, -1)) {
    if (text.trim() === '') continue;
    const e = parseLine(text.replace(/\r$/, ''), false, json, now);
    // a plain (non-JSON) line has no time of its own: its read time would be no answer
    return e.isObject ? e.time * 1000 + Math.floor(e.timeNs / 1e6) : undefined;
  }
  return undefined;
}
