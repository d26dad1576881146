import type { Fingerprint } from './fingerprint.js';

/**
 * What is persisted about one file's content (a stream), keyed by `id`: the persisted half of a file table entry.
 * It lives below tail/ and checkpoint/ so that both use it and neither imports the other.
 */
export interface StreamRecord {
  id: string;
  /** Input key and the active path (host path) whose history this stream is. */
  input: string;
  lane: string;
  /** The path it was last seen at (the active path, a backup name, or a backup's `.gz`). */
  file: string;
  dev: number;
  ino: number;
  fp: Fingerprint;
  /** Every byte before this offset was acknowledged by the store. */
  offset: number;
  /** Ends of batches sealed (and maybe sent) past `offset`, so a restart re-cuts the same batches. */
  sealed: number[];
  /** Size last seen (uncompressed bytes read so far for `.gz`). */
  size: number;
  state: 'active' | 'rotated' | 'done';
  /** Event time (Unix ms) of the last event acknowledged before `offset`: one end of a loss's missing window. */
  lastEventMs?: number;
  updatedAt: number;
}

