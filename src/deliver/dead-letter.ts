import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Batch } from '../batch/batch.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import { ErrorCodes } from '../errors.js';
import { batchNdjson, logstoreFileStem } from './ndjson.js';
import type { SinkError } from './sink.js';
import { localWriteError } from './write-error.js';

/**
 * Batches the store refused for good (400, 422, a single log too large for it) are kept here, whole, so that an
 * operator can see why and replay them; only then does the batch count as settled and its offsets move on.
 */
export interface DeadLetterSpool {
  /** Appends one record for the batch, fdatasyncs, then resolves. Rejects with a SinkError when it cannot. */
  write(batch: Batch, err: Pick<SinkError, 'message' | 'kind' | 'statusCode' | 'code' | 'storeCode' | 'responseBody'>, sinkName?: string): Promise<void>;
  close(): Promise<void>;
}

/** Where the spool of a state dir lives: `{stateDir}/dead-letter/{logstore}.ndjson`. */
export function deadLetterDir(stateDir: string): string {
  return join(stateDir, 'dead-letter');
}

/**
 * One NDJSON record per batch in `{stateDir}/dead-letter/{logstore}.ndjson`:
 * `{"time","sink","reason","kind","statusCode","code","storeCode","responseBody","batch":{id,inputKey,logstore,project,product,
 * source,range,tags,events},"logs":[<each log as file: writes it, with __time__ and __tag__>]}`.
 * Counted in tailship_batches_dead_lettered_total once it is on disk.
 */
export function createDeadLetterSpool(stateDir: string, ctx: { logger: Logger; metrics?: Metrics; now?: () => number }): DeadLetterSpool {
  const dir = deadLetterDir(stateDir);
  const files = new Map<string, { path: string; fh?: FileHandle; tail: Promise<void> }>();
  const now = ctx.now ?? Date.now;

  async function append(f: { path: string; fh?: FileHandle }, line: Buffer): Promise<void> {
    try {
      if (!f.fh) {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        f.fh = await open(f.path, 'a', 0o600);
      }
      const before = (await f.fh.stat()).size;
      try {
        let off = 0;
        while (off < line.length) off += (await f.fh.write(line, off, line.length - off)).bytesWritten;
        await f.fh.datasync();
      } catch (err) {
        await f.fh.truncate(before).catch(() => undefined);
        throw err;
      }
    } catch (err) {
      const fh = f.fh;
      f.fh = undefined;
      await fh?.close().catch(() => undefined);
      throw localWriteError(f.path, err, ErrorCodes.DEAD_LETTER_WRITE);
    }
  }

  return {
    write(batch, err, sinkName): Promise<void> {
      let f = files.get(batch.logstore);
      if (!f) {
        f = { path: join(dir, `${logstoreFileStem(batch.logstore)}.ndjson`), tail: Promise.resolve() };
        files.set(batch.logstore, f);
      }
      const line = Buffer.from(deadLetterRecord(batch, err, sinkName, now()));
      const target = f;
      const done = f.tail.then(() => append(target, line));
      f.tail = done.catch(() => undefined);
      return done.then(() => {
        ctx.metrics?.batchesDeadLettered.inc();
        ctx.logger.warn(
          { batch: batch.id, logstore: batch.logstore, events: batch.events.length, statusCode: err.statusCode, path: target.path },
          `batch dead-lettered: ${err.message}`,
        );
      });
    },
    async close(): Promise<void> {
      await Promise.all([...files.values()].map(async (f) => {
        await f.tail;
        const fh = f.fh;
        f.fh = undefined;
        await fh?.close().catch(() => undefined);
      }));
    },
  };
}

/** One spool line (with its newline). The logs are spliced in as already-rendered JSON text. */
export function deadLetterRecord(
  batch: Batch,
  err: Pick<SinkError, 'message' | 'kind' | 'statusCode' | 'code' | 'storeCode' | 'responseBody'>,
  sinkName: string | undefined,
  at: number,
): string {
  const head = JSON.stringify({
    time: new Date(at).toISOString(),
    sink: sinkName,
    reason: err.message,
    kind: err.kind,
    statusCode: err.statusCode,
    code: err.code,
    storeCode: err.storeCode,
    responseBody: err.responseBody,
    batch: {
      id: batch.id,
      inputKey: batch.inputKey,
      logstore: batch.logstore,
      project: batch.project,
      product: batch.product,
      source: batch.source,
      range: batch.range,
      tags: batch.tags,
      events: batch.events.length,
    },
  });
  const logs = batchNdjson(batch).trimEnd().split('\n').join(',');
  return `${head.slice(0, -1)},"logs":[${batch.events.length ? logs : ''}]}\n`;
}
