import { mkdir, open, readdir, rename, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Batch } from '../../batch/batch.js';
import type { Logger } from '../../observe/log.js';
import type { Metrics } from '../../observe/metrics.js';
import { writeAndSync } from '../durable-write.js';
import { batchNdjsonWriter, logstoreFileStem } from '../ndjson.js';
import { closedError, type Sink } from '../sink.js';
import { localWriteError } from '../write-error.js';

export interface FileSinkOptions {
  /** Rotate `{logstore}.ndjson` before a write would take it past this size. Default 100 MiB (SPEC §3). */
  rotateBytes?: number;
}

export const DEFAULT_ROTATE_BYTES = 100 * 1024 * 1024;

/**
 * `file:DIR` (SPEC §3): appends each batch as NDJSON to `DIR/{logstore}.ndjson`, one write per batch, then
 * fdatasync, then acknowledges. A full file is renamed to `{logstore}-{n}.ndjson` (n above every existing one, so
 * nothing is overwritten) and a new one started. Writes to one file are serialised; logstores write in parallel.
 */
export function createFileSink(dir: string, ctx: { logger: Logger; metrics?: Metrics }, opts: FileSinkOptions = {}): Sink {
  const rotateBytes = opts.rotateBytes ?? DEFAULT_ROTATE_BYTES;
  const files = new Map<string, LogstoreFile>();
  let closed = false;

  function fileFor(logstore: string): LogstoreFile {
    let f = files.get(logstore);
    if (!f) {
      const stem = logstoreFileStem(logstore);
      f = { stem, path: join(dir, `${stem}.ndjson`), size: 0, tail: Promise.resolve() };
      files.set(logstore, f);
    }
    return f;
  }

  async function append(f: LogstoreFile, chunk: Buffer, signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    try {
      if (!f.fh) await openActive(f);
      if (f.size > 0 && f.size + chunk.length > rotateBytes) await rotate(f);
    } catch (err) {
      await closeQuietly(f);
      throw localWriteError(f.path, err);
    }
    const fh = f.fh!;
    const before = f.size;
    try {
      await writeAndSync(fh, chunk);
      f.size = before + chunk.length;
    } catch (err) {
      // Cut a half-written batch off again so that the retry does not leave a broken line in front of it.
      try {
        await fh.truncate(before);
      } catch {
        await closeQuietly(f); // reopened (and re-measured) on the next attempt
      }
      throw localWriteError(f.path, err);
    }
  }

  async function openActive(f: LogstoreFile): Promise<void> {
    await mkdir(dir, { recursive: true });
    f.fh = await open(f.path, 'a');
    f.size = (await f.fh.stat()).size;
    // A new directory entry is durable only once the directory is synced; rare (start, rotation), so cheap.
    await syncDir(dir);
  }

  async function rotate(f: LogstoreFile): Promise<void> {
    await closeQuietly(f);
    if (f.nextN === undefined) f.nextN = await highestRotation(dir, f.stem) + 1;
    let target = join(dir, `${f.stem}-${f.nextN}.ndjson`);
    while (await exists(target)) target = join(dir, `${f.stem}-${++f.nextN}.ndjson`);
    await rename(f.path, target);
    f.nextN++;
    ctx.logger.info({ path: f.path, rotatedTo: target, bytes: f.size }, 'file sink: rotated output file');
    await openActive(f);
  }

  return {
    name: 'file',
    send(batch: Batch, signal?: AbortSignal): Promise<void> {
      if (closed) return Promise.reject(closedError('file'));
      const f = fileFor(batch.logstore);
      const w = batchNdjsonWriter(batch);
      const chunk = w.bytes();
      const done = f.tail.then(() => append(f, chunk, signal));
      // Once the write has settled nothing reads the chunk: its buffer serves the next batch.
      f.tail = done.then(
        () => w.release(),
        () => w.release(),
      );
      return done;
    },
    async close(): Promise<void> {
      closed = true;
      await Promise.all([...files.values()].map(async (f) => {
        await f.tail;
        await closeQuietly(f);
      }));
    },
  };
}

interface LogstoreFile {
  stem: string;
  path: string;
  fh?: FileHandle;
  /** Size of the active file: where the next batch starts. */
  size: number;
  /** Next rotation number, found by scanning the directory at the first rotation. */
  nextN?: number;
  /** The last queued write: the next one starts after it (serialises writes to this file). */
  tail: Promise<void>;
}

async function highestRotation(dir: string, stem: string): Promise<number> {
  const re = new RegExp(`^${stem.replace(/[.]/g, '\\.')}-(\\d+)\\.ndjson$`);
  let max = 0;
  for (const name of await readdir(dir)) {
    const m = re.exec(name);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

async function closeQuietly(f: LogstoreFile): Promise<void> {
  const fh = f.fh;
  f.fh = undefined;
  try {
    await fh?.close();
  } catch {
    // nothing to do: the data of an unacknowledged write is rewritten by its retry
  }
}
