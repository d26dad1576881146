// One batch to its end: acknowledged, split in halves when the store finds it too large, or dead-lettered.
import type { Batch } from '../batch/batch.js';
import { ErrorCodes } from '../errors.js';
import type { DeadLetterSpool } from './dead-letter.js';
import { backoffDelay } from './retry-policy.js';
import { asSinkError, sendUntilSettled, type SendContext } from './send-until-settled.js';
import { SinkError } from './sink.js';

export type DeliveryOutcome = 'delivered' | 'dead-lettered';

export interface DeliverContext extends SendContext {
  deadLetter: DeadLetterSpool;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

export async function deliverWhole(batch: Batch, ctx: DeliverContext): Promise<DeliveryOutcome> {
  const { sink } = ctx;
  const err = await sendUntilSettled(batch, ctx);
  if (!err) return 'delivered';
  if (err.kind === 'too-large') {
    if (batch.events.length <= 1) {
      const bytes = batch.events[0] ? Buffer.byteLength(batch.events[0].raw) : 0;
      await spool(batch, new SinkError('rejected', ErrorCodes.SINK_TOO_LARGE, `a single log of ${bytes} bytes is larger than the ${sink.name} store accepts (${err.message})`, {
        statusCode: err.statusCode,
        storeCode: err.storeCode,
        responseBody: err.responseBody,
      }), ctx);
      return 'dead-lettered';
    }
    // Halves in turn, inside this batch's slot: asking for more slots could deadlock when all are held by parents.
    const [first, second] = splitBatch(batch);
    ctx.logger.info({ batch: batch.id, events: batch.events.length }, `${sink.name} store: batch too large, sending it in halves`);
    const a = await deliverWhole(first, ctx);
    const b = await deliverWhole(second, ctx);
    return a === 'dead-lettered' || b === 'dead-lettered' ? 'dead-lettered' : 'delivered';
  }
  await spool(batch, err, ctx);
  return 'dead-lettered';
}

/** Writes to the dead-letter spool, retrying (e.g. a full disk) until it is on disk: the batch must not vanish. */
async function spool(batch: Batch, err: SinkError, ctx: DeliverContext): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    ctx.signal.throwIfAborted();
    try {
      await ctx.deadLetter.write(batch, err, ctx.sink.name);
      return;
    } catch (e) {
      const werr = asSinkError(e, 'dead-letter');
      ctx.logger.error({ batch: batch.id, attempt }, `cannot write the dead-letter spool, will retry: ${werr.message}`);
      await ctx.sleep(backoffDelay(attempt, { kind: 'retryable' }, ctx.random, ctx.backoff), ctx.signal);
    }
  }
}

/** Two batches of the first and second half of the events; ids `${id}.0` / `${id}.1` stay stable across retries. */
export function splitBatch(batch: Batch): [Batch, Batch] {
  const mid = Math.ceil(batch.events.length / 2);
  const part = (events: Batch['events'], n: number): Batch => ({
    ...batch,
    id: `${batch.id}.${n}`,
    events,
    rawBytes: events.reduce((sum, e) => sum + Buffer.byteLength(e.raw), 0),
  });
  return [part(batch.events.slice(0, mid), 0), part(batch.events.slice(mid), 1)];
}
