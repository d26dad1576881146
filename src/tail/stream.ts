import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { StreamRecord } from '../checkpoint/checkpoint-store.js';
import type { Fingerprint } from '../identity/fingerprint.js';
import type { ChunkSource, GzipSource } from './chunk-source.js';
import { LineFramer } from './line-framer.js';

/**
 * A stream being read: the persisted record plus what only lives in memory (fd, framer, read position).
 * `phase`: `active` (the file at the lane's path, may grow), `rotated` (renamed away: read to its end),
 * `lingering` (rotated and fully read, fd kept a little longer in case a writer still appends),
 * `finished` (closed; its record is done once every byte is acknowledged).
 */
export interface LiveStream {
  rec: StreamRecord;
  fh?: FileHandle;
  gzFile?: string;
  src?: ChunkSource | GzipSource;
  framer: LineFramer;
  phase: 'active' | 'rotated' | 'lingering' | 'finished';
  lingerUntil: number;
  /** Final end offset once finished (for done-ness). */
  finalEnd?: number;
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
): StreamRecord {
  return {
    id: newStreamId(st.ino),
    input,
    lane,
    file,
    dev: st.dev,
    ino: st.ino,
    fp,
    offset,
    sealed: [],
    size: st.size,
    state: 'active',
    updatedAt: Date.now(),
  };
}

export function liveFromRecord(rec: StreamRecord, start: number, maxLineBytes: number, phase: LiveStream['phase']): LiveStream {
  return { rec, framer: new LineFramer(start, maxLineBytes), phase, lingerUntil: 0 };
}
