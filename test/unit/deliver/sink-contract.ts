/**
 * THE SINK CONTRACT: what every Sink (src/deliver/sink.ts) promises the deliverer, as one suite that each sink's
 * test runs against its own store. The deliverer's guarantees (at least once, nothing dropped, dead letter only for
 * what the store refused) hold only for sinks that pass it.
 *
 * Cases:
 * 1. Acknowledged means durable: once `send` resolves, the store holds the whole batch (every log, in order),
 *    also for batches sent at the same time. A store with no application acknowledgement (syslog over TCP: `send`
 *    resolves once the kernel took the bytes) cannot promise that strictly; it declares
 *    `{ acknowledgement: 'written' }` and gives `flush()`, and the case then checks what it can: once the batch
 *    is flushed and the connection closed (`flush`, which also waits for the receiver to hold that many logs,
 *    bounded), the receiver holds the whole batch, in order. The case names say which of the two is checked.
 * 2. Errors carry their kind and a stable code (src/errors.ts): store down → 'retryable' (and the next send after
 *    it is back succeeds); refused batch → 'rejected'; too large → 'too-large' + SINK_TOO_LARGE; bad credentials →
 *    'blocked' + SINK_AUTH. A refused send is never acknowledged. Each fault is optional: a sink that cannot meet
 *    it (file: has no 4xx) leaves it out and the case is skipped, visibly.
 * 3. `close()` is idempotent (twice, or on a sink never used, resolves), and a send after close rejects with a
 *    'retryable' SinkError with code SINK_CLOSED: the batch is not lost, the next run sends it.
 * 4. An aborted send (AbortSignal) rejects (with the signal's AbortError, or a SinkError SINK_ABORTED) and is not
 *    acknowledged; with a signal aborted before the call, nothing of the batch reaches the store.
 *
 * HOW A NEW SINK PLUGS IN (elasticsearch, loki, clickhouse, syslog, otlp, …): write
 * `test/unit/deliver/contract-<name>.test.ts` that calls
 *
 *     sinkContract('loki', async () => {
 *       const store = await startFakeLoki();                          // a real server on 127.0.0.1
 *       return {
 *         sink: createLokiSink(new URL(store.url), ctx),
 *         stored: async () => store.lines().map((l) => JSON.parse(l).auditID),  // the auditID of each log held
 *         faults: {
 *           down: { inject: () => store.stop(), heal: () => store.start() },
 *           reject: { inject: () => store.answer(400), heal: () => store.answer(undefined) },
 *           // tooLarge, auth: only where the store has them
 *         },
 *         cleanup: () => store.close(),
 *       };
 *     });
 *
 * `stored()` returns the `auditID` of every log the store holds, in the order it holds them (the batches of this
 * suite are audit events `{"kind":"Event","auditID":"<batch>-<i>",…}`). Each case calls `setup` afresh and
 * `cleanup` after, so a fault never leaks into the next case. A sink that dedupes (ES `_id`) still passes: the
 * suite never sends a batch twice expecting two copies.
 */
import { afterEach, describe, expect, test } from 'vitest';
import type { Batch } from '../../../src/batch/batch.js';
import { SinkError, type Sink } from '../../../src/deliver/sink.js';
import { ALL_ERROR_CODES, ErrorCodes } from '../../../src/errors.js';
import { makeBatch, objectEvent } from './support.js';

export interface Fault {
  /** Makes the store answer this way (or be unreachable) from now on. */
  inject(): void | Promise<void>;
  /** Back to normal answers. Omitted: the case does not check recovery. */
  heal?(): void | Promise<void>;
}

export interface SinkUnderTest {
  sink: Sink;
  /** The auditID of every log the store holds now, in its order. */
  stored(): Promise<string[]>;
  faults?: {
    /** The store is unreachable or cannot take writes (connection refused, disk error, …): retryable. */
    down?: Fault;
    /** The store refuses this batch (a 4xx, a bad body): rejected. */
    reject?: Fault;
    /** The store says the request is too large (413): too-large for a batch of several logs. */
    tooLarge?: Fault;
    /** The store refuses the credentials (401/403): blocked with SINK_AUTH. */
    auth?: Fault;
  };
  /**
   * Only for `acknowledgement: 'written'`: flush and close the connection (close the sink), then wait (bounded)
   * until the receiver holds `expected.length` logs. The checks that follow read `stored()`.
   */
  flush?(expected: string[]): Promise<void>;
  cleanup(): Promise<void>;
}

export interface ContractOptions {
  /** 'store' (default): `send` resolves once the store acknowledged. 'written': once the bytes were written. */
  acknowledgement?: 'store' | 'written';
  /** Why the whole suite cannot run here (a server binary is absent): registered as skipped, with the reason. */
  skip?: string;
}

let batchSeq = 0;

/** A batch of `n` audit events whose auditIDs are `{id}-{i}`. */
export function contractBatch(n = 3, id = `b${++batchSeq}`): Batch {
  const events = Array.from({ length: n }, (_, i) => objectEvent({ kind: 'Event', auditID: `${id}-${i}`, verb: 'get', stage: 'ResponseComplete' }, 1_700_000_000 + i));
  return makeBatch({ id, events });
}

const ids = (b: Batch): string[] => b.events.map((e) => (JSON.parse(e.raw) as { auditID: string }).auditID);

async function failure(p: Promise<void>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('send resolved, but the contract expects it to reject');
    },
    (e: unknown) => e,
  );
}

function expectSinkError(err: unknown, kind: SinkError['kind'], code?: string): SinkError {
  expect(err).toBeInstanceOf(SinkError);
  const e = err as SinkError;
  expect(e.kind).toBe(kind);
  expect(ALL_ERROR_CODES.has(e.code), `code ${e.code} is one of ErrorCodes`).toBe(true);
  if (code) expect(e.code).toBe(code);
  return e;
}

/** What the store holds, after `flush` for a sink whose acknowledgement is only 'written'. */
async function held(t: SinkUnderTest, expected: string[]): Promise<string[]> {
  if (t.flush) await t.flush(expected);
  return t.stored();
}

/** Registers the contract cases for one sink. `setup` is called once per case. */
export function sinkContract(name: string, setup: () => Promise<SinkUnderTest>, opts: ContractOptions = {}): void {
  if (opts.skip) console.warn(`sink contract: ${name} skipped: ${opts.skip}`);
  const written = opts.acknowledgement === 'written';
  (opts.skip ? describe.skip : describe)(`sink contract: ${name}${opts.skip ? ` (skipped: ${opts.skip})` : ''}`, () => {
    let current: SinkUnderTest | undefined;
    const start = async () => {
      current = await setup();
      if (written && !current.flush) throw new Error(`${name}: acknowledgement 'written' needs flush()`);
      return current;
    };
    afterEach(async () => {
      const t = current;
      current = undefined;
      if (!t) return;
      await t.sink.close().catch(() => undefined);
      await t.cleanup();
    });

    describe(written ? 'written, then flushed, means received (no application acknowledgement)' : 'acknowledged means durable', () => {
      test(written ? 'after send resolves and the connection is flushed and closed, the receiver holds the whole batch, in order' : 'after send resolves the store holds the whole batch, in order', async () => {
        const t = await start();
        const batch = contractBatch(5);
        await t.sink.send(batch);
        expect(await held(t, ids(batch))).toEqual(ids(batch));
      });

      test(written ? 'batches sent at the same time are each received whole once flushed' : 'batches sent at the same time are each held whole', async () => {
        const t = await start();
        const batches = [contractBatch(4), contractBatch(1), contractBatch(7)];
        await Promise.all(batches.map((b) => t.sink.send(b)));
        const got = await held(t, batches.flatMap(ids));
        expect([...got].sort()).toEqual(batches.flatMap(ids).sort());
        // Whole: each batch's logs are held in their order.
        for (const b of batches) expect(got.filter((id) => id.startsWith(`${b.id}-`))).toEqual(ids(b));
      });
    });

    describe('errors carry their kind and code', () => {
      test('store down: retryable, not acknowledged; the next send after it is back succeeds', async (ctx) => {
        const t = await start();
        const down = t.faults?.down;
        if (!down) return ctx.skip();
        await down.inject();
        const batch = contractBatch(2);
        expectSinkError(await failure(t.sink.send(batch)), 'retryable');
        if (!down.heal) return;
        await down.heal();
        await t.sink.send(batch);
        expect(await held(t, ids(batch))).toEqual(ids(batch));
      });

      test('a refused batch: rejected, not acknowledged', async (ctx) => {
        const t = await start();
        const reject = t.faults?.reject;
        if (!reject) return ctx.skip();
        await reject.inject();
        const batch = contractBatch(2);
        expectSinkError(await failure(t.sink.send(batch)), 'rejected');
        expect(await t.stored()).toEqual([]);
        if (!reject.heal) return;
        await reject.heal();
        await t.sink.send(batch);
        expect(await held(t, ids(batch))).toEqual(ids(batch));
      });

      test('too large: too-large with SINK_TOO_LARGE for a batch of several logs', async (ctx) => {
        const t = await start();
        const tooLarge = t.faults?.tooLarge;
        if (!tooLarge) return ctx.skip();
        await tooLarge.inject();
        expectSinkError(await failure(t.sink.send(contractBatch(4))), 'too-large', ErrorCodes.SINK_TOO_LARGE);
        expect(await t.stored()).toEqual([]);
      });

      test('bad credentials: blocked with SINK_AUTH', async (ctx) => {
        const t = await start();
        const auth = t.faults?.auth;
        if (!auth) return ctx.skip();
        await auth.inject();
        expectSinkError(await failure(t.sink.send(contractBatch(2))), 'blocked', ErrorCodes.SINK_AUTH);
        expect(await t.stored()).toEqual([]);
      });
    });

    describe('close', () => {
      test('is idempotent, also on a sink never used', async () => {
        const t = await start();
        await t.sink.close();
        await t.sink.close();
        await Promise.all([t.sink.close(), t.sink.close()]);
      });

      test('waits for a send in progress, then a send after close rejects with SINK_CLOSED', async () => {
        const t = await start();
        const batch = contractBatch(3);
        // The outcome is taken at once: a rejection while close() is awaited is not left unhandled.
        const sending = t.sink.send(batch).then(() => 'ok', (e: unknown) => e);
        await t.sink.close();
        // A send that was under way when close came is either acknowledged (and held) or rejected, never lost quietly.
        const outcome = await sending;
        if (outcome === 'ok') expect(await held(t, ids(batch))).toEqual(ids(batch));
        else expect(outcome).toBeInstanceOf(Error);
        const after = contractBatch(1);
        expectSinkError(await failure(t.sink.send(after)), 'retryable', ErrorCodes.SINK_CLOSED);
        expect(await t.stored()).not.toContain(ids(after)[0]);
        await t.sink.close();
      });
    });

    describe('abort', () => {
      const isAbort = (err: unknown) =>
        (err instanceof Error && err.name === 'AbortError') || (err instanceof SinkError && err.code === ErrorCodes.SINK_ABORTED);

      test('a signal aborted before the call: rejects, nothing of the batch reaches the store', async () => {
        const t = await start();
        const ac = new AbortController();
        ac.abort(new DOMException('stop', 'AbortError'));
        const err = await failure(t.sink.send(contractBatch(3), ac.signal));
        expect(isAbort(err), `rejected with ${String(err)}`).toBe(true);
        expect(await t.stored()).toEqual([]);
        // The sink is still usable.
        const next = contractBatch(2);
        await t.sink.send(next);
        expect(await held(t, ids(next))).toEqual(ids(next));
      });

      test('a signal aborted during the send: it rejects, or it was already acknowledged and held whole', async () => {
        const t = await start();
        const ac = new AbortController();
        const batch = contractBatch(50);
        const sending = t.sink.send(batch, ac.signal);
        ac.abort(new DOMException('stop', 'AbortError'));
        const outcome = await sending.then(() => 'ok', (e: unknown) => e);
        if (outcome === 'ok') expect(await held(t, ids(batch))).toEqual(ids(batch));
        else expect(isAbort(outcome), `rejected with ${String(outcome)}`).toBe(true);
      });
    });
  });
}
