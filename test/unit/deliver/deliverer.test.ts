import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { Batch } from '../../../src/batch/batch.js';
import { createDeadLetterSpool, type DeadLetterSpool } from '../../../src/deliver/dead-letter.js';
import { splitBatch } from '../../../src/deliver/deliver-whole.js';
import { createDeliverer, type DelivererOptions } from '../../../src/deliver/deliverer.js';
import { SinkError } from '../../../src/deliver/sink.js';
import { ErrorCodes } from '../../../src/errors.js';
import { createMetrics, type Metrics } from '../../../src/observe/metrics.js';
import { captureLogger, deferred, makeBatch, retryable, scriptedSink, tempDir, virtualTime, type Script } from './support.js';

let dir: string;
let cleanup: () => Promise<void>;
const spools: DeadLetterSpool[] = [];
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => {
  await Promise.all(spools.splice(0).map((s) => s.close()));
  await cleanup();
});

async function counter(m: Metrics, name: keyof Metrics, labels: Record<string, string> = {}): Promise<number> {
  const c = m[name] as { get: () => Promise<{ values: Array<{ value: number; labels: Record<string, string | number> }> }> };
  const values = (await c.get()).values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
  return values.reduce((s, v) => s + v.value, 0);
}

function setup(script: Script, over: Partial<DelivererOptions> = {}) {
  const sink = scriptedSink(script);
  const metrics = createMetrics();
  const log = captureLogger();
  const time = virtualTime();
  const deadLetter = createDeadLetterSpool(dir, { logger: log.logger, metrics });
  spools.push(deadLetter);
  const deliverer = createDeliverer({
    sink,
    deadLetter,
    metrics,
    logger: log.logger,
    random: () => 0.5,
    sleep: time.sleep,
    now: time.now,
    ...over,
  });
  return { sink, metrics, log, time, deadLetter, deliverer };
}

const msgs = (lines: Array<Record<string, unknown>>, level: number) => lines.filter((l) => l.level === level).map((l) => String(l.msg));

describe('deliverer: retries', () => {
  test('retries a retryable failure with growing jittered back-off until the store acknowledges', async () => {
    const t = setup((_b, call) => (call <= 5 ? retryable() : 'ok'));
    const outcome = t.deliverer.deliver(makeBatch({ n: 7 }));
    await t.time.run(Infinity);
    expect(await outcome).toBe('delivered');
    expect(t.sink.calls).toHaveLength(6);
    // rand 0.5 × min(30 s, 500 ms × 2^(n-1))
    expect(t.time.sleeps).toEqual([250, 500, 1000, 2000, 4000]);
    expect(await counter(t.metrics, 'batchesFailed', { sink: 'fake' })).toBe(5);
    expect(await counter(t.metrics, 'batchRetries', { sink: 'fake' })).toBe(5);
    expect(await counter(t.metrics, 'batchesShipped', { sink: 'fake' })).toBe(1);
    expect(await counter(t.metrics, 'eventsShipped', { logstore: 'audit-store' })).toBe(7);
    expect(t.deliverer.inFlight()).toBe(0);
    // One warning when trouble starts, one info line at recovery: not one line per attempt.
    expect(msgs(t.log.lines, 40)).toHaveLength(1);
    expect(msgs(t.log.lines, 30).filter((m) => m.includes('recovered'))).toHaveLength(1);
  });

  test('never gives up: a store failing for 6 simulated hours still gets the batch in the end', async () => {
    let failing = true;
    const t = setup(() => (failing ? retryable() : 'ok'));
    const outcome = t.deliverer.deliver(makeBatch());
    await t.time.run(6 * 3600_000);
    expect(t.deliverer.inFlight()).toBe(1);
    // Capped at 30 s × jitter: about 6 h / 15 s attempts, no more.
    expect(t.sink.calls.length).toBeGreaterThan(1000);
    expect(t.sink.calls.length).toBeLessThan(1500);
    failing = false;
    await t.time.run(Infinity);
    expect(await outcome).toBe('delivered');
  });

  test('a flapping store (every other request fails) gives a warning a minute, not one per request', async () => {
    const t = setup((_b, call) => (call % 2 === 0 ? retryable() : 'ok'), { concurrency: 1 });
    // 10 minutes of simulated traffic: a batch every 2 s.
    const outcomes: Array<Promise<unknown>> = [];
    for (let i = 0; i < 300; i++) {
      outcomes.push(t.deliverer.deliver(makeBatch({ id: `b${i}` })));
      await t.time.run(t.time.now() + 2000);
    }
    await t.time.run(Infinity);
    await Promise.all(outcomes);
    expect(t.sink.calls).toHaveLength(599); // the first batch goes through, each later one fails once first
    const warns = msgs(t.log.lines, 40);
    expect(warns.length).toBeGreaterThanOrEqual(9);
    expect(warns.length).toBeLessThanOrEqual(11);
    expect(msgs(t.log.lines, 30).filter((m) => m.includes('recovered')).length).toBe(warns.length);
  });

  test('Retry-After is honoured', async () => {
    const t = setup((_b, call) => (call === 1 ? retryable('429', { statusCode: 429, retryAfterMs: 7000 }) : 'ok'), { random: () => 0 });
    const outcome = t.deliverer.deliver(makeBatch());
    await t.time.run(6999);
    expect(t.sink.calls).toHaveLength(1);
    await t.time.run(7000);
    expect(t.sink.calls).toHaveLength(2);
    expect(await outcome).toBe('delivered');
    expect(t.time.sleeps).toEqual([7000]);
  });

  test('an unexpected (non-SinkError) throw of a sink is retried, not dropped', async () => {
    const t = setup((_b, call) => (call === 1 ? new TypeError('oops') : 'ok'));
    const outcome = t.deliverer.deliver(makeBatch());
    await t.time.run(Infinity);
    expect(await outcome).toBe('delivered');
    expect(t.sink.calls).toHaveLength(2);
  });
});

describe('deliverer: too large', () => {
  test('413 halves the batch recursively; every event is delivered once, in order, with stable ids', async () => {
    const delivered: number[] = [];
    const t = setup((b) => {
      if (b.events.length > 3) return new SinkError('too-large', ErrorCodes.SINK_TOO_LARGE, '413', { statusCode: 413 });
      delivered.push(...b.events.map((e) => JSON.parse(e.raw).seq));
      return 'ok';
    });
    const batch = makeBatch({ n: 10, id: 'b' });
    const outcome = t.deliverer.deliver(batch);
    await t.time.run(Infinity);
    expect(await outcome).toBe('delivered');
    expect(delivered).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(t.sink.calls.map((c) => `${c.id}:${c.events}`)).toEqual(['b:10', 'b.0:5', 'b.0.0:3', 'b.0.1:2', 'b.1:5', 'b.1.0:3', 'b.1.1:2']);
    expect(t.time.sleeps).toEqual([]);
    expect(await counter(t.metrics, 'eventsShipped')).toBe(10);
    expect(await counter(t.metrics, 'batchesShipped')).toBe(4);
    expect(await counter(t.metrics, 'batchesFailed')).toBe(3);
  });

  test('a single event still too large goes to the dead-letter spool with a clear reason', async () => {
    const t = setup((b) => (b.events.some((e) => e.raw.includes('"seq":2')) ? new SinkError('too-large', ErrorCodes.SINK_TOO_LARGE, 'the store answered 413', { statusCode: 413 }) : 'ok'));
    const outcome = t.deliverer.deliver(makeBatch({ n: 4, id: 'b' }));
    await t.time.run(Infinity);
    expect(await outcome).toBe('dead-lettered');
    const records = (await readFile(join(dir, 'dead-letter', 'audit-store.ndjson'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(1);
    expect(records[0].batch.id).toBe('b.1.0');
    expect(records[0].logs.map((l: { seq: number }) => l.seq)).toEqual([2]);
    expect(records[0].statusCode).toBe(413);
    expect(records[0].reason).toMatch(/a single log of \d+ bytes is larger than the fake store accepts/);
    expect(await counter(t.metrics, 'eventsShipped')).toBe(3);
    expect(await counter(t.metrics, 'batchesDeadLettered')).toBe(1);
  });

  test('splitBatch keeps everything but id, events and rawBytes', () => {
    const b = makeBatch({ n: 5, id: 'x' });
    const [a, c] = splitBatch(b);
    expect(a).toEqual({ ...b, id: 'x.0', events: b.events.slice(0, 3), rawBytes: b.events.slice(0, 3).reduce((s, e) => s + e.raw.length, 0) });
    expect(c.id).toBe('x.1');
    expect(c.events).toEqual(b.events.slice(3));
    expect(a.rawBytes + c.rawBytes).toBe(b.rawBytes);
  });
});

describe('deliverer: rejected', () => {
  test('400 writes the whole batch to the dead-letter spool, then resolves dead-lettered', async () => {
    const err = new SinkError('rejected', ErrorCodes.SINK_HTTP_4XX, 'the store rejected the batch with 400: field x', { statusCode: 400, responseBody: '{"error":"field x"}' });
    const t = setup(() => err);
    const batch = makeBatch({ n: 25, id: 'rej' });
    expect(await t.deliverer.deliver(batch)).toBe('dead-lettered');
    expect(t.sink.calls).toHaveLength(1);
    const [record] = (await readFile(join(dir, 'dead-letter', 'audit-store.ndjson'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(record).toMatchObject({ sink: 'fake', statusCode: 400, responseBody: '{"error":"field x"}', kind: 'rejected', batch: { id: 'rej', events: 25, range: batch.range } });
    expect(record.logs.map((l: { seq: number }) => l.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(await counter(t.metrics, 'batchesDeadLettered')).toBe(1);
    expect(await counter(t.metrics, 'batchesFailed', { sink: 'fake' })).toBe(1);
    expect(await counter(t.metrics, 'eventsShipped')).toBe(0);
  });

  test('a dead-letter spool that cannot be written is retried until it works (the batch never vanishes)', async () => {
    const real = createDeadLetterSpool(dir, { logger: captureLogger().logger });
    spools.push(real);
    let failures = 2;
    const flaky: DeadLetterSpool = {
      write: (b, e, s) => (failures-- > 0 ? Promise.reject(new SinkError('retryable', ErrorCodes.DEAD_LETTER_WRITE, 'cannot write: ENOSPC', { storeCode: 'ENOSPC' })) : real.write(b, e, s)),
      close: () => real.close(),
    };
    const t = setup(() => new SinkError('rejected', ErrorCodes.SINK_HTTP_4XX, '400', { statusCode: 400 }), { deadLetter: flaky });
    const outcome = t.deliverer.deliver(makeBatch());
    await t.time.run(Infinity, () => failures < 0);
    await expect(outcome).resolves.toBe('dead-lettered');
    expect(t.time.sleeps).toHaveLength(2);
    expect(msgs(t.log.lines, 50).filter((m) => m.includes('dead-letter'))).toHaveLength(2);
  });
});

describe('deliverer: blocked', () => {
  test('logs once with the fix, probes slowly with one batch while the others wait, logs recovery once', async () => {
    let blocked = true;
    const fix = 'the store answered 401; fix: check TAILSHIP_HTTP_AUTHORIZATION';
    const t = setup(() => (blocked ? new SinkError('blocked', ErrorCodes.SINK_AUTH, fix, { statusCode: 401 }) : 'ok'));
    const batches = Array.from({ length: 10 }, (_, i) => makeBatch({ n: 2, first: i * 2, id: `b${i}` }));
    const outcomes = batches.map((b) => t.deliverer.deliver(b));

    await t.time.run(9 * 60_000);
    const warns = () => msgs(t.log.lines, 40);
    expect(warns()).toHaveLength(1);
    expect(warns()[0]).toContain(fix);
    const early = t.sink.calls.length;

    await t.time.run(3600_000);
    // 4 in flight when it started, then one probe at 30 s, 60 s, 120 s, 240 s, then every 5 min: ~19 in an hour.
    expect(t.sink.calls.length).toBeLessThanOrEqual(25);
    expect(t.sink.calls.length).toBeGreaterThan(early);
    // Reminded every 10 minutes, not per attempt.
    expect(warns().length).toBeGreaterThanOrEqual(4);
    expect(warns().length).toBeLessThanOrEqual(7);
    expect(t.deliverer.inFlight()).toBe(10);
    expect(t.time.sleeps.every((ms) => ms >= 27_000)).toBe(true);

    blocked = false;
    await t.time.run(2 * 3600_000);
    expect(await Promise.all(outcomes)).toEqual(Array(10).fill('delivered'));
    expect(msgs(t.log.lines, 30).filter((m) => m.includes('recovered'))).toHaveLength(1);
    expect(await counter(t.metrics, 'eventsShipped')).toBe(20);
  });
});

describe('deliverer: concurrency and close', () => {
  function heldSink() {
    const holds = new Map<string, ReturnType<typeof deferred<void>>>();
    const script: Script = (b) => {
      const d = deferred();
      holds.set(b.id, d);
      return d.promise;
    };
    return { holds, script };
  }

  test('at most `concurrency` sends at once; the rest wait and start in FIFO order', async () => {
    const h = heldSink();
    const t = setup(h.script, { concurrency: 3 });
    const batches = Array.from({ length: 10 }, (_, i) => makeBatch({ id: `b${i}`, first: i }));
    const outcomes = batches.map((b) => t.deliverer.deliver(b));
    await t.time.settle();
    expect(t.sink.calls.map((c) => c.id)).toEqual(['b0', 'b1', 'b2']);
    expect(t.deliverer.inFlight()).toBe(10);
    // Release out of order: the next waiting batch takes the freed slot.
    h.holds.get('b1')!.resolve();
    await t.time.settle();
    expect(t.sink.calls.map((c) => c.id)).toEqual(['b0', 'b1', 'b2', 'b3']);
    for (let i = 0; i < 10; i++) {
      h.holds.get(`b${i}`)?.resolve();
      await t.time.settle();
    }
    for (let i = 0; i < 10; i++) h.holds.get(`b${i}`)?.resolve();
    expect(await Promise.all(outcomes)).toEqual(Array(10).fill('delivered'));
    expect(t.sink.maxActive()).toBe(3);
    expect(t.sink.calls.map((c) => c.id)).toEqual(batches.map((b) => b.id));
    expect(t.deliverer.inFlight()).toBe(0);
  });

  test('a batch backing off keeps its slot: a failing store never sees more than `concurrency` batches', async () => {
    const t = setup(() => retryable(), { concurrency: 2 });
    for (let i = 0; i < 6; i++) void t.deliverer.deliver(makeBatch({ id: `b${i}` })).catch(() => undefined);
    await t.time.run(600_000);
    expect(new Set(t.sink.calls.map((c) => c.id))).toEqual(new Set(['b0', 'b1']));
    t.deliverer.close();
  });

  test('close() rejects every unsettled deliver with an AbortError and ends back-offs; sends on the wire may finish', async () => {
    const h = heldSink();
    let call = 0;
    const t = setup((b, n) => {
      call = n;
      return b.id === 'failing' ? retryable() : h.script(b, n);
    }, { concurrency: 3 });
    const onWire = [t.deliverer.deliver(makeBatch({ id: 'w0' })), t.deliverer.deliver(makeBatch({ id: 'w1' }))];
    const backingOff = t.deliverer.deliver(makeBatch({ id: 'failing' }));
    const queued = [t.deliverer.deliver(makeBatch({ id: 'q0' })), t.deliverer.deliver(makeBatch({ id: 'q1' }))];
    await t.time.settle();
    expect(t.time.pending()).toBe(1);
    expect(t.deliverer.inFlight()).toBe(5);

    t.deliverer.close();
    const results = await Promise.allSettled([...onWire, backingOff, ...queued]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason.name).toBe('AbortError');
    }
    expect(t.deliverer.inFlight()).toBe(0);
    expect(t.time.pending()).toBe(0);
    // The wire sends finishing later change nothing and start nothing new.
    h.holds.get('w0')!.resolve();
    h.holds.get('w1')!.reject(retryable());
    await t.time.settle();
    expect(t.sink.calls.map((c) => c.id)).toEqual(['w0', 'w1', 'failing']);
    expect(call).toBe(3);
    expect(await counter(t.metrics, 'batchesShipped')).toBe(0);
    await expect(t.deliverer.deliver(makeBatch())).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('deliverer: outcome per batch', () => {
  test('a split batch with one dead-lettered part resolves dead-lettered (its offsets still commit)', async () => {
    const t = setup((b: Batch) => {
      if (b.events.length > 2) return new SinkError('too-large', ErrorCodes.SINK_TOO_LARGE, '413', { statusCode: 413 });
      return b.id === 'b.1' ? new SinkError('rejected', ErrorCodes.SINK_HTTP_4XX, '400', { statusCode: 400 }) : 'ok';
    });
    const outcome = t.deliverer.deliver(makeBatch({ n: 4, id: 'b' }));
    await t.time.run(Infinity);
    expect(await outcome).toBe('dead-lettered');
    expect(await counter(t.metrics, 'eventsShipped')).toBe(2);
    expect(await counter(t.metrics, 'batchesDeadLettered')).toBe(1);
  });
});
