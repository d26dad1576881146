import { mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Batch } from '../../batch/batch.js';
import type { Logger } from '../../observe/log.js';
import type { Metrics } from '../../observe/metrics.js';
import { PIECE_BYTES, PIECE_CAPACITY } from '../body-render.js';
import { writeAll, writeAndSync } from '../durable-write.js';
import { batchNdjsonWriter, logstoreFileStem, NDJSON_BODY } from '../ndjson.js';
import { BodyWriter } from '../render.js';
import { closedError, type Sink } from '../sink.js';
import { localWriteError } from '../write-error.js';

export interface FileSinkOptions {
  /** Rotate `{logstore}.ndjson` before a write would take it past this size. Default 100 MiB (SPEC §3). */
  rotateBytes?: number;
  /**
   * Files kept per logstore, the active one included: after a rotation the oldest rotated files beyond this are
   * deleted, so a logstore never takes more than maxFiles × rotateBytes. 0 keeps every file. Default 5.
   */
  maxFiles?: number;
}

export const DEFAULT_ROTATE_BYTES = 100 * 1024 * 1024;
export const DEFAULT_MAX_FILES = 5;

/**
 * The query of `file:DIR?max-files=N&max-bytes=N` (issue 10 item 15: a default file store on a control-plane node
 * must not grow without bound). `max-bytes` takes K, M or G (powers of 1024). Throws naming the bad parameter.
 */
export function parseFileSinkParams(query: string): FileSinkOptions {
  const out: FileSinkOptions = {};
  for (const [name, value] of new URLSearchParams(query)) {
    if (name === 'max-files') {
      if (!/^\d+$/.test(value)) throw new Error(`file sink ?max-files=${value}: use a whole number of files (0 keeps every file; default ${DEFAULT_MAX_FILES})`);
      out.maxFiles = Number(value);
    } else if (name === 'max-bytes') {
      const m = /^(\d+)([kmg]?)(i?b)?$/i.exec(value.trim());
      const n = m ? Number(m[1]) * ({ '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as Record<string, number>)[m[2]!.toLowerCase()]! : NaN;
      if (!Number.isSafeInteger(n) || n < 1) throw new Error(`file sink ?max-bytes=${value}: use a size of one file in bytes, optionally with K, M or G (default 100M)`);
      out.rotateBytes = n;
    } else {
      throw new Error(`unknown file sink parameter ?${name}= (known: max-files, max-bytes)`);
    }
  }
  return out;
}

/**
 * `file:DIR` (SPEC §3): appends each batch as NDJSON to `DIR/{logstore}.ndjson`, rendered and written 256 KiB at
 * a time, then fdatasync, then acknowledges. A full file is renamed to `{logstore}-{n}.ndjson` (n above every existing one, so
 * nothing is overwritten) and a new one started. Writes to one file are serialised; logstores write in parallel.
 */
export function createFileSink(dir: string, ctx: { logger: Logger; metrics?: Metrics }, opts: FileSinkOptions = {}): Sink {
  const rotateBytes = opts.rotateBytes ?? DEFAULT_ROTATE_BYTES;
  const maxFiles = opts.maxFiles ?? DEFAULT_MAX_FILES;
  const files = new Map<string, LogstoreFile>();
  /** Sends not settled yet (close waits for them, also those still waiting to be rendered). */
  const sending = new Set<Promise<void>>();
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
      if (!f.fh) await openActive(dir, f);
      if (f.size > 0 && f.size + chunk.length > rotateBytes) await rotate(dir, f, maxFiles, ctx.logger);
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
      await cutBack(f, fh, before);
      throw localWriteError(f.path, err);
    }
  }

  /**
   * Writes one batch, a piece at a time while it surely fits in the active file (a whole-body buffer per batch was
   * ~10 MB of a two-sink backlog's peak); near the rotation size it is rendered whole, and its exact size decides.
   */
  async function appendBatch(f: LogstoreFile, batch: Batch, signal: AbortSignal | undefined): Promise<void> {
    if (f.size + 2 * NDJSON_BODY.sizeHint(batch) <= rotateBytes && (await appendStreamed(f, batch, signal))) return;
    const w = batchNdjsonWriter(batch);
    try {
      await append(f, w.bytes(), signal);
    } finally {
      w.release(0); // a whole-body buffer is rare here (once per rotation): not kept as a spare
    }
  }

  /** Appends the batch piece by piece, then fdatasyncs. False (nothing left written) if it would pass the rotation size. */
  async function appendStreamed(f: LogstoreFile, batch: Batch, signal: AbortSignal | undefined): Promise<boolean> {
    signal?.throwIfAborted();
    try {
      if (!f.fh) await openActive(dir, f);
    } catch (err) {
      await closeQuietly(f);
      throw localWriteError(f.path, err);
    }
    const fh = f.fh!;
    const before = f.size;
    let size = before;
    const w = new BodyWriter(PIECE_CAPACITY);
    const flush = async (): Promise<boolean> => {
      if (before > 0 && size + w.length > rotateBytes) return false;
      await writeAll(fh, w.bytes());
      size += w.length;
      w.clear();
      return true;
    };
    try {
      let fits = true;
      for (const _ of NDJSON_BODY.write(batch, w)) if (w.length >= PIECE_BYTES && !(fits = await flush())) break;
      if (fits && w.length > 0) fits = await flush();
      if (!fits) {
        await fh.truncate(before);
        return false;
      }
      await fh.datasync();
      f.size = size;
      return true;
    } catch (err) {
      await cutBack(f, fh, before);
      throw localWriteError(f.path, err);
    } finally {
      w.release(PIECE_CAPACITY);
    }
  }

  return {
    name: 'file',
    send(batch: Batch, signal?: AbortSignal): Promise<void> {
      if (closed) return Promise.reject(closedError('file'));
      const f = fileFor(batch.logstore);
      const done = f.tail.then(() => appendBatch(f, batch, signal));
      f.tail = done.then(noop, noop);
      sending.add(done);
      void done.then(
        () => sending.delete(done),
        () => sending.delete(done),
      );
      return done;
    },
    async close(): Promise<void> {
      closed = true;
      await Promise.allSettled([...sending]);
      await Promise.all([...files.values()].map(async (f) => {
        await f.tail;
        await closeQuietly(f);
      }));
    },
  };
}

async function openActive(dir: string, f: LogstoreFile): Promise<void> {
  await mkdir(dir, { recursive: true });
  f.fh = await open(f.path, 'a');
  f.size = (await f.fh.stat()).size;
  // A new directory entry is durable only once the directory is synced; rare (start, rotation), so cheap.
  await syncDir(dir);
}

/** Renames the full file to `{stem}-{n}.ndjson` (n above every existing one), starts a new one, prunes. */
async function rotate(dir: string, f: LogstoreFile, maxFiles: number, logger: Logger): Promise<void> {
  await closeQuietly(f);
  if (f.nextN === undefined) f.nextN = await highestRotation(dir, f.stem) + 1;
  let target = join(dir, `${f.stem}-${f.nextN}.ndjson`);
  while (await exists(target)) target = join(dir, `${f.stem}-${++f.nextN}.ndjson`);
  await rename(f.path, target);
  f.nextN++;
  logger.info({ path: f.path, rotatedTo: target, bytes: f.size }, 'file sink: rotated output file');
  await openActive(dir, f);
  if (maxFiles > 0) await prune(dir, f, maxFiles, logger);
}

/** Delete the oldest rotated files of a logstore beyond maxFiles (the active file counts as one). */
async function prune(dir: string, f: LogstoreFile, maxFiles: number, logger: Logger): Promise<void> {
  const rotated = await rotations(dir, f.stem);
  for (const n of rotated.slice(0, Math.max(0, rotated.length - (maxFiles - 1)))) {
    const old = join(dir, `${f.stem}-${n}.ndjson`);
    try {
      await unlink(old);
      logger.info({ path: old, maxFiles }, 'file sink: deleted the oldest output file (?max-files=)');
    } catch (err) {
      logger.warn({ path: old, err: (err as Error).message }, 'file sink: cannot delete an old output file');
    }
  }
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
  return (await rotations(dir, stem)).at(-1) ?? 0;
}

/** The numbers n of `{stem}-{n}.ndjson` in dir, ascending (oldest first). */
async function rotations(dir: string, stem: string): Promise<number[]> {
  const re = new RegExp(`^${stem.replace(/[.]/g, '\\.')}-(\\d+)\\.ndjson$`);
  const out: number[] = [];
  for (const name of await readdir(dir)) {
    const m = re.exec(name);
    if (m) out.push(Number(m[1]));
  }
  return out.sort((a, b) => a - b);
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

/** Cuts a half-written batch off again, so that the retry does not leave a broken line in front of it. */
async function cutBack(f: LogstoreFile, fh: FileHandle, before: number): Promise<void> {
  try {
    await fh.truncate(before);
  } catch {
    await closeQuietly(f); // reopened (and re-measured) on the next attempt
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

function noop(): void {}
