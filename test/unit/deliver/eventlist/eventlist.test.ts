import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { createDeadLetterSpool } from '../../../../src/deliver/dead-letter.js';
import { createDeliverer } from '../../../../src/deliver/deliverer.js';
import { createSink } from '../../../../src/deliver/create-sink.js';
import { takeHttpRender } from '../../../../src/deliver/render-http.js';
import { createMetrics } from '../../../../src/observe/metrics.js';
import { captureLogger, makeBatch, tempDir } from '../support.js';
import { fixtureBatches } from '../../schema/fixture-events.js';

/**
 * A receiver that takes bodies the way Falco's k8saudit webhook does: POST, `Content-Type: application/json`, no
 * Content-Encoding, the body one `audit.k8s.io` EventList (or one Event), each item an Event. Anything else is
 * refused (415 / 400), so a wrong body fails the test instead of passing silently.
 */
async function startWebhookConsumer(fail?: (n: number) => number | undefined) {
  const items: Array<Record<string, unknown>> = [];
  const refused: string[] = [];
  let n = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      n++;
      const reply = (status: number, why = '') => {
        if (why) refused.push(why);
        res.writeHead(status, { 'content-type': 'text/plain' }).end(why);
      };
      if (req.method !== 'POST') return reply(405, 'not POST');
      if (req.headers['content-type'] !== 'application/json') return reply(415, `content-type ${req.headers['content-type']}`);
      if (req.headers['content-encoding']) return reply(415, `content-encoding ${req.headers['content-encoding']}`);
      let body: { kind?: string; apiVersion?: string; items?: unknown[] };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return reply(400, 'not JSON');
      }
      if (body.kind !== 'EventList' || body.apiVersion !== 'audit.k8s.io/v1' || !Array.isArray(body.items)) return reply(400, `not an EventList: ${body.kind}`);
      for (const item of body.items as Array<Record<string, unknown>>) {
        const why = invalidEvent(item);
        if (why) return reply(400, why);
      }
      const status = fail?.(n);
      if (status) return reply(status);
      items.push(...(body.items as Array<Record<string, unknown>>));
      reply(200);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/k8s-audit`, items, refused, close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }) };
}

/** What the k8saudit plugin needs of an item: an audit.k8s.io Event with its identifying fields. */
function invalidEvent(e: Record<string, unknown>): string | undefined {
  if (e.kind !== 'Event') return `item kind ${String(e.kind)}`;
  // some of Falco's own trace events were hand-edited without apiVersion; when there is one it is audit.k8s.io's
  if (e.apiVersion !== undefined && (typeof e.apiVersion !== 'string' || !e.apiVersion.startsWith('audit.k8s.io/'))) return `item apiVersion ${String(e.apiVersion)}`;
  for (const k of ['auditID', 'stage', 'level', 'verb', 'requestURI']) if (typeof e[k] !== 'string') return `item without ${k}`;
  if ('__time__' in e || '__tag__' in e) return 'item carries tailship keys';
  return undefined;
}

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
});

describe('http sink ?format=eventlist', () => {
  test('every real fixture event arrives once as an item of an audit.k8s.io/v1 EventList, byte-for-byte the event', async () => {
    const consumer = await startWebhookConsumer((n) => (n % 4 === 0 ? 503 : undefined)); // some retries on the way
    closers.push(consumer.close);
    const { dir, cleanup } = await tempDir();
    closers.push(cleanup);
    const log = captureLogger('warn');
    const metrics = createMetrics();
    const sink = createSink(`${consumer.url}?format=eventlist`, { logger: log.logger, metrics, env: {}, stateDir: dir });
    closers.push(() => sink.close());
    const deadLetter = createDeadLetterSpool(dir, { logger: log.logger, metrics });
    closers.push(() => deadLetter.close());
    const deliverer = createDeliverer({ sink, deadLetter, metrics, logger: log.logger, backoff: { baseMs: 1, capMs: 5 } });
    closers.push(async () => deliverer.close());
    const batches = fixtureBatches(7);
    const expected = batches.flatMap((b) => b.events.map((e) => JSON.parse(e.raw)));
    expect(expected.length).toBeGreaterThan(40);
    const outcomes = await Promise.all(batches.map((b) => deliverer.deliver(b)));
    expect(outcomes.every((o) => o === 'delivered')).toBe(true);
    expect(consumer.refused).toEqual([]);
    expect(consumer.items).toHaveLength(expected.length);
    const key = (e: Record<string, unknown>) => JSON.stringify(e);
    expect(consumer.items.map(key).sort()).toEqual(expected.map(key).sort());
  });

  test('a line that is not a JSON object is left out of the EventList (it is no Event)', async () => {
    const consumer = await startWebhookConsumer();
    closers.push(consumer.close);
    const log = captureLogger('warn');
    const sink = createSink(`${consumer.url}?format=eventlist`, { logger: log.logger, metrics: createMetrics(), env: {}, stateDir: '/x' });
    closers.push(() => sink.close());
    const batch = makeBatch({ n: 2 });
    batch.events.forEach((e) => Object.assign(e, { raw: e.raw.replace('{', '{"apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","level":"Metadata","requestURI":"/api",') }));
    batch.events.push({ raw: 'not json', isObject: false, time: 1, timeNs: 0 });
    await sink.send(batch);
    expect(consumer.items.map((i) => i.auditID)).toEqual(['id-0', 'id-1']);
  });

  test('parameters: gzip off unless asked, schema refused with eventlist, unknown format refused', () => {
    expect(takeHttpRender(new URL('http://h/x?format=eventlist'))!.url.searchParams.get('gzip')).toBe('false');
    expect(takeHttpRender(new URL('http://h/x?format=eventlist&gzip=true'))!.url.searchParams.get('gzip')).toBe('true');
    expect(takeHttpRender(new URL('http://h/x?format=eventlist'))!.url.searchParams.has('format')).toBe(false);
    expect(() => takeHttpRender(new URL('http://h/x?format=eventlist&schema=ecs'))).toThrow(/remove \?schema/);
    expect(() => takeHttpRender(new URL('http://h/x?format=csv'))).toThrow(/format=eventlist/);
    expect(takeHttpRender(new URL('http://h/x?gzip=false'))).toBeUndefined();
  });
});
