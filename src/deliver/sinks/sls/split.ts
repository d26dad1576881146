import { cutLog, logFieldSize, type SlsLog } from './log-group.js';

/** logs[start, end) go in one LogGroup (one PutLogs request), with these per-log markers as extra LogTags. */
export interface Chunk {
  start: number;
  end: number;
  markers?: Record<string, string>;
}

export interface SplitLimits {
  /** Raw LogGroup bytes per request. */
  maxBytes: number;
  /** Logs per request. */
  maxLogs: number;
}

/**
 * Splits a batch's logs into LogGroups that each stay within the request limits, keeping their order.
 * A LogGroup's tags apply to all of its logs, so a log with markers (`__truncated__`, `__parse_error__`)
 * goes in a group of logs with the same markers: those are rare, so this costs a request now and then.
 * A log that would not fit in a request on its own is cut (largest values first) and marked `__truncated__`,
 * so that no batch can be refused forever for its size.
 *
 * `metaSize(markers)` is the size of Topic, Source and LogTags of a group with those markers (including the
 * largest `__pack_id__`). `onCut(index, sizeBefore)` reports each cut log.
 */
export function splitLogs(
  logs: SlsLog[],
  limits: SplitLimits,
  metaSize: (markers: Record<string, string> | undefined) => number,
  onCut?: (index: number, sizeBefore: number) => void,
): Chunk[] {
  const chunks: Chunk[] = [];
  let cur: Chunk | undefined;
  let curKey = '';
  let curBytes = 0;
  for (let i = 0; i < logs.length; i++) {
    const log = logs[i]!;
    let overhead = metaSize(log.markers);
    if (logFieldSize(log) + overhead > limits.maxBytes) {
      const before = log.size;
      const withMark = metaSize({ ...log.markers, __truncated__: 'true' });
      // Room for the message: the request minus group meta, the field tag and a 5-byte length.
      cutLog(log, Math.max(64, limits.maxBytes - withMark - 6));
      overhead = withMark;
      onCut?.(i, before);
    }
    const key = markersKey(log.markers);
    const size = logFieldSize(log);
    if (!cur || key !== curKey || cur.end - cur.start >= limits.maxLogs || curBytes + size > limits.maxBytes) {
      cur = { start: i, end: i };
      if (log.markers) cur.markers = log.markers;
      chunks.push(cur);
      curKey = key;
      curBytes = overhead;
    }
    cur.end = i + 1;
    curBytes += size;
  }
  return chunks;
}

function markersKey(m: Record<string, string> | undefined): string {
  if (!m) return '';
  return Object.keys(m)
    .sort()
    .map((k) => `${k}\u0000${m[k]}`)
    .join('\u0001');
}
