/// <reference path="./parse-prometheus-text-format.d.ts" />
import { createServer } from 'node:net';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterEach, describe, expect, test } from 'vitest';
import { createDeadLetterSpool } from '../../../src/deliver/dead-letter.js';
import { createDeliverer } from '../../../src/deliver/deliverer.js';
import { createHttpSink } from '../../../src/deliver/sinks/http-sink.js';
import { silentLogger } from '../../../src/observe/log.js';
import { createMetrics } from '../../../src/observe/metrics.js';
import { parseListen, startServer, type ObserveServer } from '../../../src/observe/server.js';
import { startFakeHttpStore, type FakeHttpStore } from '../../helpers/fake-http-store.js';
import { makeBatch, tempDir } from '../deliver/support.js';

const logger = silentLogger();
const servers: ObserveServer[] = [];
let store: FakeHttpStore | undefined;
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await store?.close();
  store = undefined;
});

async function start(isReady: () => boolean = () => true, metrics = createMetrics()) {
  const server = await startServer({ listen: '127.0.0.1:0', metrics, isReady, logger });
  servers.push(server);
  const base = `http://127.0.0.1:${server.port}`;
  return { server, metrics, base };
}

/** value of a sample of a scraped family, by labels; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = parsePrometheusTextFormat(text).find((f) => f.name === name);
  const m = family?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  return m?.value === undefined ? undefined : Number(m.value);
}

describe('health and metrics server', () => {
  test('/healthz answers 200 ok', async () => {
    const { base } = await start();
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
  });

  test('/readyz is 503 until isReady() says so, then 200', async () => {
    let ready = false;
    const { base } = await start(() => ready);
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  test('/metrics is Prometheus text with every SPEC §5 metric, typed, in the registry’s content type', async () => {
    const { base, metrics } = await start();
    metrics.fileLag.set({ path: '/var/log/kubernetes/audit.log' }, 1234);
    metrics.eventsShipped.inc({ logstore: 'audit-c1' }, 5);
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(metrics.registry.contentType);
    const families = new Map(parsePrometheusTextFormat(await res.text()).map((f) => [f.name, f]));
    for (const [name, type] of [
      ['tailship_bytes_read_total', 'COUNTER'],
      ['tailship_lines_read_total', 'COUNTER'],
      ['tailship_lines_invalid_total', 'COUNTER'],
      ['tailship_events_shipped_total', 'COUNTER'],
      ['tailship_batches_failed_total', 'COUNTER'],
      ['tailship_batches_dead_lettered_total', 'COUNTER'],
      ['tailship_file_lag_bytes', 'GAUGE'],
      ['tailship_bytes_lost_total', 'COUNTER'],
      ['tailship_checkpoint_age_seconds', 'GAUGE'],
    ] as const) {
      expect(families.get(name)?.type, name).toBe(type);
    }
    expect(families.get('tailship_file_lag_bytes')!.metrics).toEqual([{ value: '1234', labels: { path: '/var/log/kubernetes/audit.log' } }]);
    expect(families.get('tailship_events_shipped_total')!.metrics).toEqual([{ value: '5', labels: { logstore: 'audit-c1' } }]);
  });

  test('other paths are 404, other methods 405, HEAD works', async () => {
    const { base } = await start();
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
    const head = await fetch(`${base}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  test('close() returns even while a scraper holds a keep-alive connection', async () => {
    const { server, base } = await start();
    await fetch(`${base}/metrics`, { keepalive: true });
    servers.splice(servers.indexOf(server), 1);
    await server.close();
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  test('a taken port is an error that says so', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    await expect(startServer({ listen: `127.0.0.1:${port}`, metrics: createMetrics(), isReady: () => true, logger })).rejects.toThrow(/EADDRINUSE.*--listen/);
    await new Promise((r) => blocker.close(r));
  });

  test.each([
    ['127.0.0.1:2020', { host: '127.0.0.1', port: 2020 }],
    ['0.0.0.0:9', { host: '0.0.0.0', port: 9 }],
    [':2020', { host: '::', port: 2020 }], // every address, dual-stack (issue 10 item 15)
    ['[::]:2020', { host: '::', port: 2020 }],
    ['[::1]:2020', { host: '::1', port: 2020 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
  ])('parseListen(%s)', (text, expected) => {
    expect(parseListen(text)).toEqual(expected);
  });

  test.each(['2020', '127.0.0.1', '127.0.0.1:99999', 'host:port', ''])('parseListen(%j) is refused with the expected form', (text) => {
    expect(() => parseListen(text)).toThrow(/HOST:PORT/);
  });
});

describe('scraped counters match what the store saw', () => {
  test('shipped, failed, retried and dead-lettered counts equal the store’s own', async () => {
    store = await startFakeHttpStore();
    // Every third request fails with 503, batch 7 is refused for good.
    store.setFault(({ n, key }) => (key === 'b7' ? { status: 400, body: 'bad' } : n % 3 === 0 ? { status: 503 } : 'ok'));
    const t = await tempDir();
    const { base, metrics } = await start();
    const sink = createHttpSink(new URL(store.url), { logger, env: {} });
    const deadLetter = createDeadLetterSpool(t.dir, { logger, metrics });
    const deliverer = createDeliverer({ sink, deadLetter, metrics, logger, concurrency: 2, backoff: { baseMs: 1, capMs: 5 } });
    const outcomes = await Promise.all(Array.from({ length: 30 }, (_, i) => deliverer.deliver(makeBatch({ id: `b${i}`, n: 3, first: i * 3 }))));
    deliverer.close();
    await sink.close();
    await deadLetter.close();
    await t.cleanup();
    expect(outcomes.filter((o) => o === 'dead-lettered')).toHaveLength(1);

    const text = await (await fetch(`${base}/metrics`)).text();
    const failed = store.requests.filter((r) => r.outcome !== 'stored').length;
    const retried = store.requests.filter((r) => r.outcome === '503').length;
    expect(sample(text, 'tailship_events_shipped_total', { logstore: 'audit-store' })).toBe(store.logs().length);
    expect(store.logs().length).toBe(29 * 3);
    expect(sample(text, 'tailship_batches_shipped_total', { sink: 'http' })).toBe(store.received.length);
    expect(sample(text, 'tailship_batches_failed_total', { sink: 'http' })).toBe(failed);
    expect(sample(text, 'tailship_batch_retries_total', { sink: 'http' })).toBe(retried);
    expect(sample(text, 'tailship_batches_dead_lettered_total')).toBe(1);
    expect(retried).toBeGreaterThan(5);
  });
});
