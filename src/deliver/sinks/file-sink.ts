import { join } from 'node:path';
import type { Batch } from '../../batch/batch.js';
import type { Logger } from '../../observe/log.js';
import type { Metrics } from '../../observe/metrics.js';
import { logstoreFileStem } from '../ndjson.js';
import { closedError, type Sink } from '../sink.js';
import { appendBatch, closeQuietly, type LogstoreFile } from './logstore-file.js';

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
  /** Sends not settled yet (close waits for them, also those still waiting for the file). */
  const sending = new Set<Promise<void>>();
  let closed = false;

  function fileFor(logstore: string): LogstoreFile {
    let f = files.get(logstore);
    if (!f) {
      const stem = logstoreFileStem(logstore);
      f = { stem, path: join(dir, `${stem}.ndjson`), dir, rotateBytes, maxFiles, logger: ctx.logger, size: 0, tail: Promise.resolve() };
      files.set(logstore, f);
    }
    return f;
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

function noop(): void {}
