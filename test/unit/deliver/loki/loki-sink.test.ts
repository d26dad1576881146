import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createDeadLetterSpool, type DeadLetterSpool } from '../../../../src/deliver/dead-letter.js';
import { createDeliverer } from '../../../../src/deliver/deliverer.js';
import { createSink } from '../../../../src/deliver/create-sink.js';
import { SinkError, type Sink } from '../../../../src/deliver/sink.js';
import { refusedEntries } from '../../../../src/deliver/sinks/loki/push.js';
import { ErrorCodes } from '../../../../src/errors.js';
import { createMetrics } from '../../../../src/observe/metrics.js';
import { goTime, startFakeLoki, type FakeLoki } from '../../../helpers/fake-loki.js';
import { captureLogger, makeBatch, objectEvent, tempDir } from '../support.js';

let dir: string;
let cleanup: () => Promise<void>;
const closers: Array<() => Promise<unknown>> = [];
beforeEach(async () => ({ dir, cleanup } = await tempDir('tailship-loki-')));
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  await cleanup();
});

function lokiSink(loki: FakeLoki, query = '', env: Record<string, string> = {}, deadLetter?: DeadLetterSpool): Sink {
  const sink = createSink(`loki+${loki.url}${query}`, { logger: captureLogger().logger, metrics: createMetrics(), env, stateDir: dir, deadLetter });
  closers.push(() => sink.close());
  return sink;
}
const allEntries = (loki: FakeLoki) => [...loki.streams.values()].flatMap((s) => s.entries);


describe('loki sink', () => {
  test('one stream per batch with low-cardinality labels only; one line per event, the event JSON; ns timestamps', async () => {
    const loki = await startFakeLoki({ tenant: 'team-a' });
    closers.push(() => loki.close());
    const batch = makeBatch({ n: 3, tags: { audit: 'apiserver', __hostname__: 'node-1', __path__: '/var/log/a.log', __cluster_id__: 'c1' } });
    await lokiSink(loki, '?label.env=prod', { TAILSHIP_LOKI_TENANT: 'team-a' }).send(batch);
    expect(loki.streams.size).toBe(1);
    const [stream] = [...loki.streams.values()];
    expect(stream!.labels).toEqual({ job: 'tailship', logstore: 'audit-store', audit: 'apiserver', cluster: 'c1', host: 'node-1', env: 'prod' });
    expect(JSON.stringify(stream!.labels)).not.toMatch(/id-0|__path__|\/var\/log/);
    expect(stream!.entries.map((e) => e.line)).toEqual(batch.events.map((e) => e.raw));
    expect(stream!.entries[0]!.ns).toBe(BigInt(batch.events[0]!.time) * 1_000_000_000n);
  });

  test('entries are sent in timestamp order within a stream', async () => {
    const loki = await startFakeLoki();
    closers.push(() => loki.close());
    const events = [objectEvent({ a: 3 }, 30), objectEvent({ a: 1 }, 10), objectEvent({ a: 2 }, 20)];
    await lokiSink(loki).send(makeBatch({ events }));
    expect(allEntries(loki).map((e) => JSON.parse(e.line).a)).toEqual([1, 2, 3]);
  });

  test('entries Loki refuses for good (out of order) go to the dead-letter spool; the rest is stored; the batch is acknowledged', async () => {
    const loki = await startFakeLoki();
    closers.push(() => loki.close());
    const spool = createDeadLetterSpool(dir, { logger: captureLogger().logger });
    closers.push(() => spool.close());
    const sink = lokiSink(loki, '', {}, spool);
    await sink.send(makeBatch({ events: [objectEvent({ a: 100 }, 100)] }));
    await sink.send(makeBatch({ events: [objectEvent({ a: 50 }, 50), objectEvent({ a: 200 }, 200)] }));
    expect(allEntries(loki).map((e) => JSON.parse(e.line).a)).toEqual([100, 200]);
    const rec = readFileSync(join(dir, 'dead-letter', 'audit-store.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rec).toHaveLength(1);
    expect(rec[0].code).toBe(ErrorCodes.SINK_LOKI_ENTRIES_REJECTED);
    expect(rec[0].reason).toMatch(/entry out of order/);
    expect(rec[0].logs[0].a).toBe(50);
  });

  test('429 is retryable with Retry-After; through the deliverer every event arrives once', async () => {
    const loki = await startFakeLoki({ fault: (n) => (n % 3 === 1 ? 429 : n % 5 === 0 ? 503 : undefined) });
    closers.push(() => loki.close());
    const first = await lokiSink(loki).send(makeBatch()).catch((e: SinkError) => e);
    expect((first as SinkError).kind).toBe('retryable');
    expect((first as SinkError).retryAfterMs).toBe(1000);
    expect((first as SinkError).code).toBe(ErrorCodes.SINK_LOKI_PUSH_FAILED);

    const metrics = createMetrics();
    const log = captureLogger('warn');
    const spool = createDeadLetterSpool(dir, { logger: log.logger, metrics });
    closers.push(() => spool.close());
    const sink = lokiSink(loki, '', {}, spool);
    // Retry-After 1 s would make this slow: the back-off cap is what the deliverer honours (capped for the test)
    const deliverer = createDeliverer({ sink, deadLetter: spool, metrics, logger: log.logger, backoff: { baseMs: 1, capMs: 5, retryAfterCapMs: 5 }, concurrency: 1 });
    closers.push(async () => deliverer.close());
    const batches = Array.from({ length: 10 }, (_, b) => makeBatch({ n: 20, first: b * 20 }));
    for (const b of batches) expect(await deliverer.deliver(b)).toBe('delivered');
    const seqs = allEntries(loki).map((e) => JSON.parse(e.line).seq as number);
    expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  test('reads the refused timestamps of Loki\'s answer', () => {
    const ns = 1_700_000_000_123_456_789n;
    const r = refusedEntries(`entry with timestamp ${goTime(ns)} ignored, reason: 'entry too far behind, oldest acceptable timestamp is: 2023-11-14T22:13:20Z' for stream: {job="x"},\ntotal ignored: 1 out of 2`);
    expect(r!.ns).toEqual([ns]);
    expect(r!.reason).toMatch(/too far behind/);
    expect(refusedEntries('error at least one label pair is invalid')).toBeUndefined();
  });

  test('bad URIs say what to fix', () => {
    const ctx = { logger: captureLogger().logger, metrics: createMetrics(), env: {}, stateDir: dir };
    expect(() => createSink('loki+http://127.0.0.1:3100?labels=a', ctx)).toThrow(/label\.NAME/);
    expect(() => createSink('loki+http://u:p@127.0.0.1:3100', ctx)).toThrow(/no credentials/);
  });
});
