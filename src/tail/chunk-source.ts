import { createReadStream } from 'node:fs';
import type { ReadAt } from '../identity/fingerprint.js';
import { createGunzip, type Gunzip } from 'node:zlib';

/** Reads a file forward in chunks from an offset; `null` means "nothing more right now". */
export interface ChunkSource {
  /** Offset (uncompressed, for `.gz`) of the next byte `read` returns. */
  readonly position: number;
  read(): Promise<Buffer | null>;
  close(): Promise<void>;
}

/**
 * A plain file through a held fd: keeps working after the file is renamed or unlinked. The returned chunk is
 * a view of `scratch` and is only valid until the next read (the line framer copies what it keeps).
 */
export function plainSource(fh: ReadAt & { close(): Promise<void> }, start: number, scratch: Buffer): ChunkSource {
  let position = start;
  return {
    get position() {
      return position;
    },
    async read() {
      const { bytesRead } = await fh.read(scratch, 0, scratch.length, position);
      if (bytesRead === 0) return null;
      position += bytesRead;
      return scratch.subarray(0, bytesRead);
    },
    close: () => fh.close(),
  };
}

/**
 * A gzip backup, decompressed as a stream, skipping to `start` (uncompressed). `complete` tells, after `read`
 * returned null, whether the member ended cleanly (CRC and size checked by zlib) or the file is still being
 * written (lumberjack's mill creates the `.gz` before filling it) or is damaged.
 */
export interface GzipSource extends ChunkSource {
  readonly complete: boolean;
  readonly error: Error | undefined;
}

export function gzipSource(file: string, start: number): GzipSource {
  let position = 0;
  let complete = false;
  let error: Error | undefined;
  const gunzip: Gunzip = createGunzip();
  const raw = createReadStream(file);
  raw.on('error', (e) => gunzip.destroy(e));
  raw.pipe(gunzip);
  const it = gunzip[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return {
    get position() {
      return Math.max(position, start);
    },
    get complete() {
      return complete;
    },
    get error() {
      return error;
    },
    async read() {
      for (;;) {
        if (complete || error) return null;
        let r: IteratorResult<Buffer>;
        try {
          r = await it.next();
        } catch (e) {
          error = e as Error;
          return null;
        }
        if (r.done) {
          complete = true;
          return null;
        }
        const chunk = r.value;
        const from = position;
        position += chunk.length;
        if (position <= start) continue; // still skipping to the resume offset
        return from >= start ? chunk : chunk.subarray(start - from);
      }
    },
    async close() {
      raw.destroy();
      gunzip.destroy();
    },
  };
}
