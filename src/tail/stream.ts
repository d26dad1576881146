import { randomBytes } from 'node:crypto';
import type { Fingerprint } from '../identity/fingerprint.js';
import type { StreamRecord } from '../identity/stream-record.js';
import type { ChunkSource, GzipSource } from './chunk-source.js';
import type { TailFile } from './fs.js';
import { LineFramer } from './line-framer.js';

/**
 * A file table entry being read: the persisted record wrapped with what only lives in memory (fd, framer, read
 * position), as OTel's fileconsumer Reader wraps its Metadata. Where it sits in its lane says what it is: the
 * lane's `active` (the file at the lane's path, may grow), queued (rotated away: read to its end), lingering
 * (rotated and fully read, fd kept a little longer in case a writer still appends). Its record's `state` is what
 * is persisted.
 */
export interface LiveStream {
  rec: StreamRecord;
  fh?: TailFile;
  gzFile?: string;
  src?: ChunkSource | GzipSource;
  framer: LineFramer;
  lingerUntil: number;
}

export function newStreamId(ino: number): string {
  return `${ino.toString(36)}.${randomBytes(5).toString('hex')}`;
}

export function newRecord(
  input: string,
  lane: string,
  file: string,
  st: { dev: number; ino: number; size: number },
  fp: Fingerprint,
  offset: number,
  now: number,
): StreamRecord {
  return { id: newStreamId(st.ino), input, lane, file, dev: st.dev, ino: st.ino, fp, offset, sealed: [], size: st.size, state: 'active', updatedAt: now };
}

export function liveFromRecord(rec: StreamRecord, start: number, maxLineBytes: number): LiveStream {
  return { rec, framer: new LineFramer(start, maxLineBytes), lingerUntil: 0 };
}
