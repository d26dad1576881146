import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createDeadLetterSpool, type DeadLetterSpool } from '../../../../src/deliver/dead-letter.js';
import { createDeliverer } from '../../../../src/deliver/deliverer.js';
import { createSink } from '../../../../src/deliver/create-sink.js';
import { SinkError, type Sink } from '../../../../src/deliver/sink.js';
import { ErrorCodes } from '../../../../src/errors.js';
import { createMetrics } from '../../../../src/observe/metrics.js';
import { eventIdOf } from '../../../../src/schema/index.js';
import { startFakeElasticsearch, type FakeEs } from '../../../helpers/fake-elasticsearch.js';
import { captureLogger, makeBatch, seeded, tempDir } from '../support.js';

let dir: string;
let cleanup: () => Promise<void>;
const closers: Array<() => Promise<unknown>> = [];
beforeEach(async () => ({ dir, cleanup } = await tempDir('tailship-es-')));
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  await cleanup();
});

function esSink(es: FakeEs, path = '/k8s-audit', env: Record<string, string> = {}, deadLetter?: DeadLetterSpool): Sink {
  const log = captureLogger();
  const sink = createSink(`elasticsearch+${es.url}${path}`, { logger: log.logger, metrics: createMetrics(), env, stateDir: dir, deadLetter });
  closers.push(() => sink.close());
  return sink;
}


describe('elasticsearch sink: _bulk', () => {
  test('create with _id = __event_id__, ECS documents by default, NDJSON ending in a newline, ?pipeline=', async () => {
    const es = await startFakeElasticsearch();
    closers.push(() => es.close());
    const batch = makeBatch({ n: 3, events: undefined });
    batch.events[0]!.markers = { __event_id__: 'given-id' };
    const sink = esSink(es, '/k8s-audit?pipeline=audit-enrich');
    await sink.send(batch);
    const docs = es.indices.get('k8s-audit')!;
    expect([...docs.keys()][0]).toBe('given-id');
    expect([...docs.keys()].slice(1)).toEqual(batch.events.slice(1).map((e) => eventIdOf(e, batch.tags)));
    const doc = docs.get('given-id')!;
    expect(doc['@timestamp']).toBeTypeOf('string');
    expect((doc.kubernetes as { audit: { auditID: string } }).audit.auditID).toBe('id-0');
    expect(es.stats.pipelines).toEqual(['audit-enrich']);
    expect(es.headers[0]!['content-type']).toBe('application/x-ndjson');
  });

  test('a resend of an acknowledged batch is acknowledged (409 = already there), nothing indexed twice', async () => {
    const es = await startFakeElasticsearch();
    closers.push(() => es.close());
    const sink = esSink(es);
    const batch = makeBatch({ n: 10 });
    await sink.send(batch);
    await sink.send(batch);
    expect(es.stats.r409).toBe(10);
    expect([...es.created.values()].every((n) => n === 1)).toBe(true);
  });

  test('items answered 429 are the only ones sent again', async () => {
    let n = 0;
    const es = await startFakeElasticsearch({ random: () => (n++ < 3 ? 0 : 1), rate429: 0.5 }); // the first 3 items 429 once
    closers.push(() => es.close());
    const sink = esSink(es);
    const batch = makeBatch({ n: 8 });
    const err = await sink.send(batch).catch((e: SinkError) => e);
    expect(err).toBeInstanceOf(SinkError);
    expect((err as SinkError).kind).toBe('retryable');
    expect((err as SinkError).code).toBe(ErrorCodes.SINK_ES_ITEMS_RETRY);
    await sink.send(batch);
    expect(es.stats.items).toBe(8 + 3);
    expect(es.indices.get('k8s-audit')!.size).toBe(8);
  });

  test('a document refused for good goes to the dead-letter spool with the reason, the rest is acknowledged', async () => {
    const es = await startFakeElasticsearch({ isBad: (doc) => ((doc.kubernetes as { audit: { seq: number } }).audit.seq === 2 ? 'failed to parse field [kubernetes.audit.seq] of type [date]' : undefined) });
    closers.push(() => es.close());
    const log = captureLogger();
    const spool = createDeadLetterSpool(dir, { logger: log.logger });
    closers.push(() => spool.close());
    const sink = esSink(es, '/k8s-audit', {}, spool);
    await sink.send(makeBatch({ n: 5 }));
    expect(es.indices.get('k8s-audit')!.size).toBe(4);
    const rec = JSON.parse(readFileSync(join(dir, 'dead-letter', 'audit-store.ndjson'), 'utf8'));
    expect(rec.code).toBe(ErrorCodes.SINK_ES_ITEM_REJECTED);
    expect(rec.reason).toMatch(/failed to parse field/);
    expect(rec.logs).toHaveLength(1);
    expect(rec.logs[0].seq).toBe(2);
  });

  test('whole-request answers map to kinds: 401 blocked (API key fix), 503 retryable, 400 rejected', async () => {
    const es = await startFakeElasticsearch({ apiKey: 'c2VjcmV0OmtleQ==' });
    closers.push(() => es.close());
    const denied = await esSink(es).send(makeBatch()).catch((e: SinkError) => e);
    expect((denied as SinkError).kind).toBe('blocked');
    expect((denied as SinkError).code).toBe(ErrorCodes.SINK_AUTH);
    expect((denied as SinkError).message).toMatch(/TAILSHIP_ES_API_KEY/);
    expect((denied as SinkError).message).not.toMatch(/c2VjcmV0/);
    await esSink(es, '/k8s-audit', { TAILSHIP_ES_API_KEY: 'c2VjcmV0OmtleQ==' }).send(makeBatch());
    expect(es.indices.get('k8s-audit')!.size).toBe(3);

    const down = await startFakeElasticsearch({ afterIndex: () => 503 });
    closers.push(() => down.close());
    expect(((await esSink(down).send(makeBatch()).catch((e) => e)) as SinkError).kind).toBe('retryable');
  });

  test('basic auth from TAILSHIP_ES_USERNAME / _PASSWORD; credentials in the URI are refused', async () => {
    const es = await startFakeElasticsearch();
    closers.push(() => es.close());
    await esSink(es, '/a', { TAILSHIP_ES_USERNAME: 'elastic', TAILSHIP_ES_PASSWORD: 'pw' }).send(makeBatch({ n: 1 }));
    expect(es.headers[0]!.authorization).toBe(`Basic ${Buffer.from('elastic:pw').toString('base64')}`);
    const log = captureLogger();
    expect(() => createSink(`elasticsearch+http://u:p@127.0.0.1:1/a`, { logger: log.logger, metrics: createMetrics(), env: {}, stateDir: dir })).toThrow(/no credentials/);
    expect(() => createSink(`elasticsearch+http://127.0.0.1:1/`, { logger: log.logger, metrics: createMetrics(), env: {}, stateDir: dir })).toThrow(/index/);
    expect(() => createSink(`opensearch+http://127.0.0.1:1/a?schema=xml`, { logger: log.logger, metrics: createMetrics(), env: {}, stateDir: dir })).toThrow(/schema/);
  });
});

describe('elasticsearch sink through the deliverer: 5 % per-item 429s, 1 % mapping errors, lost answers', () => {
  test('every good event indexed once, every bad one in the dead-letter spool with its reason', async () => {
    const rnd = seeded(14);
    const badSeq = (seq: number) => seq % 100 === 37;
    const es = await startFakeElasticsearch({
      rate429: 0.05,
      random: rnd,
      isBad: (doc) => (badSeq((doc.kubernetes as { audit: { seq: number } }).audit.seq) ? 'failed to parse field [kubernetes.audit.requestObject] of type [keyword]' : undefined),
      afterIndex: (n) => (n % 7 === 0 ? 'reset' : n % 11 === 0 ? 503 : 'ok'), // committed, then the answer is lost
    });
    closers.push(() => es.close());
    const metrics = createMetrics();
    const log = captureLogger('warn');
    const spool = createDeadLetterSpool(dir, { logger: log.logger, metrics });
    closers.push(() => spool.close());
    const sink = createSink(`elasticsearch+${es.url}/k8s-audit`, { logger: log.logger, metrics, env: {}, stateDir: dir, deadLetter: spool });
    closers.push(() => sink.close());
    const deliverer = createDeliverer({ sink, deadLetter: spool, metrics, logger: log.logger, backoff: { baseMs: 1, capMs: 5 } });
    closers.push(async () => deliverer.close());

    const batches = Array.from({ length: 20 }, (_, b) => makeBatch({ n: 100, first: b * 100 }));
    const outcomes = await Promise.all(batches.map((b) => deliverer.deliver(b)));
    expect(outcomes.every((o) => o === 'delivered')).toBe(true);

    const all = batches.flatMap((b) => b.events.map((e) => ({ id: eventIdOf(e, b.tags), seq: JSON.parse(e.raw).seq as number })));
    const good = all.filter((e) => !badSeq(e.seq));
    const bad = all.filter((e) => badSeq(e.seq));
    const docs = es.indices.get('k8s-audit')!;
    expect(docs.size).toBe(good.length);
    for (const e of good) expect(es.created.get(e.id)).toBe(1);
    expect(es.stats.r429).toBeGreaterThan(50); // the faults did happen
    expect(es.stats.r409).toBeGreaterThan(0); // and so did resends after lost answers

    const file = join(dir, 'dead-letter', 'audit-store.ndjson');
    expect(existsSync(file)).toBe(true);
    const spooled = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const spooledSeqs = spooled.flatMap((r) => r.logs.map((l: { seq: number }) => l.seq)).sort((a: number, b: number) => a - b);
    expect(spooledSeqs).toEqual(bad.map((e) => e.seq).sort((a, b) => a - b));
    for (const r of spooled) {
      expect(r.reason).toMatch(/failed to parse field/);
      expect(r.code).toBe(ErrorCodes.SINK_ES_ITEM_REJECTED);
    }
  }, 30_000);
});
