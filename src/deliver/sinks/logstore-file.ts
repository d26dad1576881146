// One logstore's output file of the `file:` sink: a batch appended durably (streamed or whole), rotation, retention.
import { mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Batch } from '../../batch/batch.js';
import type { Logger } from '../../observe/log.js';
import { renderPieces } from '../body-render.js';
import { writeAll, writeAndSync } from '../durable-write.js';
import { batchNdjsonWriter, NDJSON_BODY } from '../ndjson.js';
import { localWriteError } from '../write-error.js';

/**
 * Writes one batch, a piece at a time while it surely fits in the active file (a whole-body buffer per batch was
 * ~10 MB of a two-sink backlog's peak); near the rotation size it is rendered whole, and its exact size decides.
 */
export async function appendBatch(f: LogstoreFile, batch: Batch, signal: AbortSignal | undefined): Promise<void> {
  if (f.size + 2 * NDJSON_BODY.sizeHint(batch) <= f.rotateBytes && (await appendStreamed(f, batch, signal))) return;
  const w = batchNdjsonWriter(batch);
  try {
    await appendWhole(f, w.bytes(), signal);
  } finally {
    w.release(0); // a whole-body buffer is rare here (once per rotation): not kept as a spare
  }
}

/** Appends the batch piece by piece, then fdatasyncs. False (nothing left written) if it would pass the rotation size. */
async function appendStreamed(f: LogstoreFile, batch: Batch, signal: AbortSignal | undefined): Promise<boolean> {
  const fh = await openForAppend(f, signal, 0);
  const before = f.size;
  let size = before;
  try {
    const fits = await renderPieces(NDJSON_BODY, batch, async (piece) => {
      if (before > 0 && size + piece.length > f.rotateBytes) return false;
      await writeAll(fh, piece);
      size += piece.length;
      return true;
    });
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
  }
}

/** Appends a whole rendered batch, rotating first when it would take the file past the rotation size. */
async function appendWhole(f: LogstoreFile, chunk: Buffer, signal: AbortSignal | undefined): Promise<void> {
  const fh = await openForAppend(f, signal, chunk.length);
  const before = f.size;
  try {
    await writeAndSync(fh, chunk);
    f.size = before + chunk.length;
  } catch (err) {
    await cutBack(f, fh, before);
    throw localWriteError(f.path, err);
  }
}

/** The open active file, rotated first when `bytes` more would take it past the rotation size (0: never). */
async function openForAppend(f: LogstoreFile, signal: AbortSignal | undefined, bytes: number): Promise<FileHandle> {
  signal?.throwIfAborted();
  try {
    if (!f.fh) await openActive(f);
    if (bytes > 0 && f.size > 0 && f.size + bytes > f.rotateBytes) await rotate(f);
  } catch (err) {
    await closeQuietly(f);
    throw localWriteError(f.path, err);
  }
  return f.fh!;
}

async function openActive(f: LogstoreFile): Promise<void> {
  await mkdir(f.dir, { recursive: true });
  f.fh = await open(f.path, 'a');
  f.size = (await f.fh.stat()).size;
  // A new directory entry is durable only once the directory is synced; rare (start, rotation), so cheap.
  await syncDir(f.dir);
}

/** Renames the full file to `{stem}-{n}.ndjson` (n above every existing one), starts a new one, prunes. */
async function rotate(f: LogstoreFile): Promise<void> {
  const { dir, maxFiles, logger } = f;
  await closeQuietly(f);
  if (f.nextN === undefined) f.nextN = await highestRotation(dir, f.stem) + 1;
  let target = join(dir, `${f.stem}-${f.nextN}.ndjson`);
  while (await exists(target)) target = join(dir, `${f.stem}-${++f.nextN}.ndjson`);
  await rename(f.path, target);
  f.nextN++;
  logger.info({ path: f.path, rotatedTo: target, bytes: f.size }, 'file sink: rotated output file');
  await openActive(f);
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

/** One logstore's output file, owned by its sink: where it is, how it rotates, and its open state. */
export interface LogstoreFile {
  stem: string;
  path: string;
  dir: string;
  rotateBytes: number;
  maxFiles: number;
  logger: Logger;
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

export async function closeQuietly(f: LogstoreFile): Promise<void> {
  const fh = f.fh;
  f.fh = undefined;
  try {
    await fh?.close();
  } catch {
    // nothing to do: the data of an unacknowledged write is rewritten by its retry
  }
}

