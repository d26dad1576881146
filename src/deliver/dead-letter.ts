import { join } from 'node:path';
import type { Batch } from '../batch/batch.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import { ErrorCodes } from '../errors.js';
import { deadLetterRecord, type DeadLetterError } from './dead-letter-record.js';
import { appendDurably } from './durable-write.js';
import { logstoreFileStem } from './ndjson.js';
import { localWriteError } from './write-error.js';

/**
 * Batches the store refused for good (400, 422, a single log too large for it) are kept here, whole, so that an
 * operator can see why and replay them; only then does the batch count as settled and its offsets move on.
 */
export interface DeadLetterSpool {
  /** Appends one record for the batch, fdatasyncs, then resolves. Rejects with a SinkError when it cannot. */
  write(batch: Batch, err: DeadLetterError, sinkName?: string): Promise<void>;
  close(): Promise<void>;
}

/** Where the spool of a state dir lives: `{stateDir}/dead-letter/{logstore}.ndjson`. */
export function deadLetterDir(stateDir: string): string {
  return join(stateDir, 'dead-letter');
}

/**
 * One NDJSON record per batch in `{stateDir}/dead-letter/{logstore}.ndjson`:
 * `{"time","sink","reason","kind","statusCode","code","storeCode","responseBody","batch":{id,inputKey,logstore,project,product,
 * source,range,tags,events,shard,ttl,logstoreMode},"logs":[<each log as file: writes it, with __time__ and __tag__>]}`
 * (dead-letter-record.ts). Counted in tailship_batches_dead_lettered_total once it is on disk.
 *
 * Each write opens the file, appends, fdatasyncs and closes it (dead letters are rare): no descriptor outlives a
 * write, so `tailship replay` may take a spool file away (rename) while the agent runs, and the agent's next dead
 * letter starts a new file instead of landing in the one being replayed.
 */
export function createDeadLetterSpool(stateDir: string, ctx: { logger: Logger; metrics?: Metrics; now?: () => number }): DeadLetterSpool {
  const dir = deadLetterDir(stateDir);
  const files = new Map<string, { path: string; tail: Promise<void> }>();
  const now = ctx.now ?? Date.now;

  async function append(f: { path: string }, line: Buffer): Promise<void> {
    try {
      await appendDurably(dir, f.path, line);
    } catch (err) {
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
      await Promise.all([...files.values()].map((f) => f.tail));
    },
  };
}
