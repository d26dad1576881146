// The send loop of one batch: send, and on failure count, log, and back off or wait at the blocked gate.
import type { Batch } from '../batch/batch.js';
import { ErrorCodes } from '../errors.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import type { BlockedGate } from './blocked-gate.js';
import { backoffDelay, type BackoffOptions } from './retry-policy.js';
import { SinkError, type Sink } from './sink.js';
import type { StoreBackOff } from './store-back-off.js';
import type { TroubleLog } from './trouble-log.js';

/** What the send loop uses, shared by every batch of one deliverer. */
export interface SendContext {
  sink: Sink;
  metrics: Metrics;
  logger: Logger;
  /** Aborts on close(). */
  signal: AbortSignal;
  labels: { sink: string };
  gate: BlockedGate;
  trouble: TroubleLog;
  backOff: StoreBackOff;
  random: () => number;
  backoff: Partial<BackoffOptions> | undefined;
  onShipped: ((batch: Batch) => void) | undefined;
}

/** Sends until acknowledged (undefined) or refused for good (the 'too-large' / 'rejected' error). */
export async function sendUntilSettled(batch: Batch, ctx: SendContext): Promise<SinkError | undefined> {
  const { sink, signal, gate, trouble } = ctx;
  let attempt = 0;
  for (;;) {
    await gate.passage(batch);
    signal.throwIfAborted();
    let err: SinkError | undefined;
    try {
      await sink.send(batch);
    } catch (e) {
      err = asSinkError(e, sink.name);
    }
    signal.throwIfAborted();
    if (!err) {
      countShipped(batch, ctx);
      gate.storeAnswered();
      trouble.recovered();
      ctx.backOff.storeIsBack();
      return undefined;
    }
    ctx.metrics.batchesFailed.inc(ctx.labels);
    if (err.kind === 'too-large' || err.kind === 'rejected') {
      gate.storeAnswered();
      trouble.recovered();
      return err;
    }
    attempt++;
    trouble.failed(err);
    ctx.logger.debug({ batch: batch.id, attempt, kind: err.kind, statusCode: err.statusCode }, `send failed, will retry: ${err.message}`);
    ctx.metrics.batchRetries.inc(ctx.labels);
    if (err.kind === 'blocked') {
      // The first batch to see it probes the store slowly; any other waits at the gate instead of backing off alone.
      if (!gate.block(batch)) continue;
    } else {
      gate.storeAnswered();
    }
    await ctx.backOff.wait(backoffDelay(attempt, err, ctx.random, ctx.backoff), !(err.retryAfterMs && err.retryAfterMs > 0));
  }
}

function countShipped(batch: Batch, ctx: SendContext): void {
  if (ctx.onShipped) ctx.onShipped(batch);
  else ctx.metrics.eventsShipped.inc({ logstore: batch.logstore }, batch.events.length);
  ctx.metrics.batchesShipped.inc(ctx.labels);
}

export function asSinkError(e: unknown, what: string): SinkError {
  if (e instanceof SinkError) return e;
  // A bug or an unexpected throw in a sink must not lose the batch: treat it as retryable.
  const msg = e instanceof Error ? e.message : String(e);
  return new SinkError('retryable', ErrorCodes.SINK_UNEXPECTED, `${what} sink failed unexpectedly: ${msg}`, { cause: e });
}
