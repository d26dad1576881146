import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { Batch } from '../batch/batch.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import { createBlockedGate } from './blocked-gate.js';
import type { DeadLetterSpool } from './dead-letter.js';
import { deliverWhole, type DeliverContext, type DeliveryOutcome } from './deliver-whole.js';
import type { BackoffOptions } from './retry-policy.js';
import type { Sink } from './sink.js';
import { createSlots } from './slots.js';
import { createStoreBackOff } from './store-back-off.js';
import { createTroubleLog } from './trouble-log.js';

export type { DeliveryOutcome };

export interface Deliverer {
  /**
   * Sends the batch until the store acknowledges it ('delivered') or it is safely in the dead-letter spool
   * ('dead-lettered'; for a split batch: at least one part was). Either way its offsets may be committed.
   * Never gives up on its own; rejects only with an AbortError after close().
   */
  deliver(batch: Batch): Promise<DeliveryOutcome>;
  /** deliver() calls not settled yet: waiting for a slot, on the wire, or backing off. */
  inFlight(): number;
  /** Stops at once: waits and back-offs end, and every unsettled deliver() rejects with an AbortError (its
   *  offsets must not be committed). Sends already on the wire may still finish; their result is ignored. */
  close(): void;
}

export interface DelivererOptions {
  sink: Sink;
  deadLetter: DeadLetterSpool;
  metrics: Metrics;
  logger: Logger;
  /** Batches on the wire or backing off at the same time; more wait in FIFO order. Default 4. */
  concurrency?: number;
  /** [0, 1) for the back-off jitter. Default Math.random. */
  random?: () => number;
  /** Waits ms or rejects when the signal aborts. Default node:timers/promises setTimeout. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Clock for the "still failing" log cadence. Default Date.now. */
  now?: () => number;
  backoff?: Partial<BackoffOptions>;
  /**
   * Called with each acknowledged (part of a) batch instead of counting tailship_events_shipped_total here: the
   * fan-out counts an event once, when every sink settled it (SPEC §5: per logstore, not per sink).
   */
  onShipped?: (batch: Batch) => void;
}

/**
 * The only caller of Sink.send. Holds at most `concurrency` batches at once (a batch keeps its slot while it
 * backs off, so a failing store is never hit harder than that), retries retryable failures forever with
 * jittered exponential back-off, splits batches the store finds too large, dead-letters rejected ones, and
 * while the store is 'blocked' lets a single batch probe it slowly while the others wait.
 */
export function createDeliverer(opts: DelivererOptions): Deliverer {
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  const sleep = opts.sleep ?? ((ms: number, signal: AbortSignal) => delay(ms, undefined, { signal }));
  const closing = new AbortController();
  const signal = closing.signal;
  // Each batch in a slot may wait on this signal (back-off or the blocked gate): more than the default 10.
  setMaxListeners(2 * concurrency + 10, signal);
  const ctx: DeliverContext = {
    sink: opts.sink,
    metrics: opts.metrics,
    logger: opts.logger,
    signal,
    labels: { sink: opts.sink.name },
    gate: createBlockedGate(signal),
    trouble: createTroubleLog(opts.logger, opts.now ?? Date.now),
    backOff: createStoreBackOff(sleep, signal),
    random: opts.random ?? Math.random,
    backoff: opts.backoff,
    onShipped: opts.onShipped,
    deadLetter: opts.deadLetter,
    sleep,
  };
  const slots = createSlots(concurrency);
  // Rejecters of unsettled deliver() calls, for close(): a Set rather than one abort listener per batch.
  const unsettled = new Set<() => void>();

  function deliver(batch: Batch): Promise<DeliveryOutcome> {
    if (signal.aborted) return Promise.reject(abortError());
    const run = (async () => {
      await slots.acquire();
      try {
        return await deliverWhole(batch, ctx);
      } finally {
        slots.release();
      }
    })();
    return settledOrAborted(run, unsettled);
  }

  return {
    deliver,
    inFlight: () => unsettled.size,
    close(): void {
      if (signal.aborted) return;
      for (const abort of [...unsettled]) abort();
      closing.abort(abortError());
      slots.rejectWaiting(abortError);
    },
  };
}

/** `run`'s outcome, unless close() calls the rejecter this puts in `unsettled` first. */
function settledOrAborted(run: Promise<DeliveryOutcome>, unsettled: Set<() => void>): Promise<DeliveryOutcome> {
  return new Promise<DeliveryOutcome>((resolve, reject) => {
    let done = false;
    const settle = (fn: () => void) => {
      if (done) return;
      done = true;
      unsettled.delete(abort);
      fn();
    };
    // close() calls this before any rejection of `run` can reach us.
    const abort = () => settle(() => reject(abortError()));
    unsettled.add(abort);
    run.then(
      (outcome) => settle(() => resolve(outcome)),
      (err) => settle(() => reject(err)),
    );
  });
}

function abortError(): DOMException {
  return new DOMException('the deliverer was closed before the batch was acknowledged', 'AbortError');
}
