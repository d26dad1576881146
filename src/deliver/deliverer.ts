import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { Batch } from '../batch/batch.js';
import { ErrorCodes } from '../errors.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import type { DeadLetterSpool } from './dead-letter.js';
import { backoffDelay, type BackoffOptions } from './retry-policy.js';
import { SinkError, type Sink } from './sink.js';

export type DeliveryOutcome = 'delivered' | 'dead-lettered';

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

/** While retryable failures go on, a warning at most this often (plus one at the start and one at recovery). */
const RETRYABLE_LOG_EVERY_MS = 60_000;
/** While the store refuses everything (401/403 …), the warning with the fix at most this often. */
const BLOCKED_LOG_EVERY_MS = 10 * 60_000;

/**
 * The only caller of Sink.send. Holds at most `concurrency` batches at once (a batch keeps its slot while it
 * backs off, so a failing store is never hit harder than that), retries retryable failures forever with
 * jittered exponential back-off, splits batches the store finds too large, dead-letters rejected ones, and
 * while the store is 'blocked' lets a single batch probe it slowly while the others wait.
 */
export function createDeliverer(opts: DelivererOptions): Deliverer {
  const { sink, deadLetter, metrics, logger } = opts;
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  const random = opts.random ?? Math.random;
  const sleep = opts.sleep ?? ((ms: number, signal: AbortSignal) => delay(ms, undefined, { signal }));
  const now = opts.now ?? Date.now;
  const labels = { sink: sink.name };
  const closing = new AbortController();
  const signal = closing.signal;
  // Each batch in a slot may wait on this signal (back-off or the blocked gate): more than the default 10.
  setMaxListeners(2 * concurrency + 10, signal);

  // Rejecters of unsettled deliver() calls, for close(): a Set rather than one abort listener per batch.
  const unsettled = new Set<() => void>();
  let running = 0;
  const waiting: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];

  function acquire(): Promise<void> {
    if (running < concurrency) {
      running++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  }

  function release(): void {
    const next = waiting.shift();
    if (next) next.resolve(); // the slot passes straight on: `running` stays the same
    else running--;
  }

  // Batches sleeping out a retry delay: an acknowledgement (the store is back) cuts every one short, so that
  // none waits up to 30 s more once the store answers again (issue 10 item 12).
  const backingOff = new Set<AbortController>();
  async function backOff(ms: number, interruptible: boolean): Promise<void> {
    const c = new AbortController();
    const onClose = (): void => c.abort();
    signal.addEventListener('abort', onClose, { once: true });
    if (interruptible) backingOff.add(c); // a store's Retry-After is honoured in full
    try {
      await sleep(ms, c.signal);
    } catch (e) {
      if (signal.aborted) throw e;
    } finally {
      backingOff.delete(c);
      signal.removeEventListener('abort', onClose);
    }
  }
  const storeIsBack = (): void => {
    for (const c of backingOff) c.abort();
  };

  const trouble = createTroubleLog(logger, now);
  const gate = createBlockedGate(signal);

  /** Sends until acknowledged (undefined) or refused for good (the 'too-large' / 'rejected' error). */
  async function sendUntilSettled(batch: Batch): Promise<SinkError | undefined> {
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
        if (opts.onShipped) opts.onShipped(batch);
        else metrics.eventsShipped.inc({ logstore: batch.logstore }, batch.events.length);
        metrics.batchesShipped.inc(labels);
        gate.storeAnswered();
        trouble.recovered();
        storeIsBack();
        return undefined;
      }
      metrics.batchesFailed.inc(labels);
      if (err.kind === 'too-large' || err.kind === 'rejected') {
        gate.storeAnswered();
        trouble.recovered();
        return err;
      }
      attempt++;
      trouble.failed(err);
      logger.debug({ batch: batch.id, attempt, kind: err.kind, statusCode: err.statusCode }, `send failed, will retry: ${err.message}`);
      metrics.batchRetries.inc(labels);
      if (err.kind === 'blocked') {
        // The first batch to see it probes the store slowly; any other waits at the gate instead of backing off alone.
        if (!gate.block(batch)) continue;
      } else {
        gate.storeAnswered();
      }
      await backOff(backoffDelay(attempt, err, random, opts.backoff), !(err.retryAfterMs && err.retryAfterMs > 0));
    }
  }

  async function deliverWhole(batch: Batch): Promise<DeliveryOutcome> {
    const err = await sendUntilSettled(batch);
    if (!err) return 'delivered';
    if (err.kind === 'too-large') {
      if (batch.events.length <= 1) {
        const bytes = batch.events[0] ? Buffer.byteLength(batch.events[0].raw) : 0;
        await spool(batch, new SinkError('rejected', ErrorCodes.SINK_TOO_LARGE, `a single log of ${bytes} bytes is larger than the ${sink.name} store accepts (${err.message})`, {
          statusCode: err.statusCode,
          storeCode: err.storeCode,
          responseBody: err.responseBody,
        }));
        return 'dead-lettered';
      }
      // Halves in turn, inside this batch's slot: asking for more slots could deadlock when all are held by parents.
      const [first, second] = splitBatch(batch);
      logger.info({ batch: batch.id, events: batch.events.length }, `${sink.name} store: batch too large, sending it in halves`);
      const a = await deliverWhole(first);
      const b = await deliverWhole(second);
      return a === 'dead-lettered' || b === 'dead-lettered' ? 'dead-lettered' : 'delivered';
    }
    await spool(batch, err);
    return 'dead-lettered';
  }

  /** Writes to the dead-letter spool, retrying (e.g. a full disk) until it is on disk: the batch must not vanish. */
  async function spool(batch: Batch, err: SinkError): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      try {
        await deadLetter.write(batch, err, sink.name);
        return;
      } catch (e) {
        const werr = asSinkError(e, 'dead-letter');
        logger.error({ batch: batch.id, attempt }, `cannot write the dead-letter spool, will retry: ${werr.message}`);
        await sleep(backoffDelay(attempt, { kind: 'retryable' }, random, opts.backoff), signal);
      }
    }
  }

  function deliver(batch: Batch): Promise<DeliveryOutcome> {
    if (signal.aborted) return Promise.reject(abortError());
    const run = (async () => {
      await acquire();
      try {
        return await deliverWhole(batch);
      } finally {
        release();
      }
    })();
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

  return {
    deliver,
    inFlight: () => unsettled.size,
    close(): void {
      if (signal.aborted) return;
      for (const abort of [...unsettled]) abort();
      closing.abort(abortError());
      for (const w of waiting.splice(0)) w.reject(abortError());
    },
  };
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

function asSinkError(e: unknown, what: string): SinkError {
  if (e instanceof SinkError) return e;
  // A bug or an unexpected throw in a sink must not lose the batch: treat it as retryable.
  const msg = e instanceof Error ? e.message : String(e);
  return new SinkError('retryable', ErrorCodes.SINK_UNEXPECTED, `${what} sink failed unexpectedly: ${msg}`, { cause: e });
}

function abortError(): DOMException {
  return new DOMException('the deliverer was closed before the batch was acknowledged', 'AbortError');
}

/**
 * While the store answers 'blocked' (bad credentials, missing project…) one batch, the prober, retries slowly;
 * every other batch waits here instead of adding its own attempts. Any answer other than 'blocked' opens it.
 */
function createBlockedGate(signal: AbortSignal) {
  let prober: Batch | undefined;
  let open: (() => void) | undefined;
  let opened: Promise<void> = Promise.resolve();

  return {
    /** Resolves when this batch may send. */
    async passage(batch: Batch): Promise<void> {
      while (prober && prober !== batch) {
        await abortable(opened, signal);
      }
    },
    /** Records a 'blocked' answer; true when this batch is (now) the prober and should back off and retry. */
    block(batch: Batch): boolean {
      if (!prober) {
        prober = batch;
        opened = new Promise((resolve) => (open = resolve));
      }
      return prober === batch;
    },
    storeAnswered(): void {
      if (!prober) return;
      prober = undefined;
      open?.();
    },
  };
}

function abortable(p: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

/**
 * Operator-facing log of a failing store: a warning when trouble starts (for 'blocked', with the fix the sink put
 * in the message), then at most one per interval while it lasts, and one info line when it ends. The interval
 * holds across episodes too, so a flapping store (fail, succeed, fail…) gives a line a minute, not one per request.
 */
function createTroubleLog(logger: Logger, now: () => number) {
  let state: { kind: SinkError['kind']; since: number; failures: number; warned: boolean } | undefined;
  const lastWarn = new Map<SinkError['kind'], number>();

  return {
    failed(err: SinkError): void {
      const t = now();
      if (!state || state.kind !== err.kind) state = { kind: err.kind, since: t, failures: 0, warned: false };
      state.failures++;
      const blocked = err.kind === 'blocked';
      const every = blocked ? BLOCKED_LOG_EVERY_MS : RETRYABLE_LOG_EVERY_MS;
      if (t - (lastWarn.get(err.kind) ?? -Infinity) < every) return;
      lastWarn.set(err.kind, t);
      const fields = { kind: err.kind, statusCode: err.statusCode, code: err.code, storeCode: err.storeCode, failures: state.failures, sinceSeconds: Math.round((t - state.since) / 1000) };
      if (!state.warned) {
        state.warned = true;
        logger.warn(
          fields,
          blocked
            ? `the store refuses every batch; holding them and retrying slowly until this is fixed: ${err.message}`
            : `delivery failing, retrying with back-off: ${err.message}`,
        );
      } else {
        logger.warn(fields, `${blocked ? 'the store still refuses every batch' : 'delivery still failing'}: ${err.message}`);
      }
    },
    recovered(): void {
      if (state?.warned) {
        logger.info(
          { failures: state.failures, afterSeconds: Math.round((now() - state.since) / 1000) },
          `delivery recovered after ${state.failures} failed attempts`,
        );
      }
      state = undefined;
    },
  };
}
