import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createDeadLetterSpool } from '../../../../src/deliver/dead-letter.js';
import { createDeliverer } from '../../../../src/deliver/deliverer.js';
import { createSink } from '../../../../src/deliver/create-sink.js';
import { SinkError, type Sink } from '../../../../src/deliver/sink.js';
import { encodeExportLogsRequest } from '../../../../src/deliver/sinks/otlp/encode.js';
import { ErrorCodes } from '../../../../src/errors.js';
import { createMetrics } from '../../../../src/observe/metrics.js';
import { anyValue, attrs, loadOtlpProto, startFakeOtlp, type FakeOtlp } from '../../../helpers/fake-otlp.js';
import { captureLogger, makeBatch, seeded, tempDir } from '../support.js';
import { fixtureBatches } from '../../schema/fixture-events.js';

let dir: string;
let cleanup: () => Promise<void>;
const closers: Array<() => Promise<unknown>> = [];
beforeEach(async () => ({ dir, cleanup } = await tempDir('tailship-otlp-')));
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  await cleanup();
});

function otlpSink(o: FakeOtlp, query = '', env: Record<string, string> = {}, deadLetter?: ReturnType<typeof createDeadLetterSpool>): Sink {
  const sink = createSink(`otlp+${o.url}${query}`, { logger: captureLogger().logger, metrics: createMetrics(), env, stateDir: dir, deadLetter });
  closers.push(() => sink.close());
  return sink;
}


describe('otlp encoder, checked with the official proto', () => {
  test('every real fixture event: one LogRecord each, decoded with opentelemetry-proto, fields as encoded', async () => {
    const o = await startFakeOtlp();
    closers.push(() => o.close());
    const sink = otlpSink(o);
    const batches = fixtureBatches(9);
    for (const b of batches) await sink.send(b);
    expect(o.stats.invalid).toBe(0);
    const records = o.records();
    const events = batches.flatMap((b) => b.events);
    expect(records).toHaveLength(events.length);
    records.forEach((r, i) => {
      const ev = JSON.parse(events[i]!.raw);
      const a = attrs(r.attributes);
      expect(anyValue(r.body)).toBe(events[i]!.raw);
      expect(a['k8s.audit.audit_id']).toBe(ev.auditID);
      expect(a['k8s.audit.verb']).toBe(ev.verb);
      expect(a['user.name']).toBe(ev.user?.username);
      if (ev.responseStatus?.code !== undefined) expect(a['http.response.status_code']).toBe(ev.responseStatus.code);
      const ts = ev.stageTimestamp ?? ev.requestReceivedTimestamp ?? ev.timestamp;
      if (ts) expect(BigInt(r.time_unix_nano) / 1_000_000n).toBe(BigInt(Date.parse(ts)));
      expect(r.severity_number).toBeGreaterThan(0);
      expect(BigInt(r.observed_time_unix_nano)).toBeGreaterThan(0n);
    });
    const res = attrs(o.requests[0]!.resource_logs[0].resource.attributes);
    expect(res).toMatchObject({ 'service.name': 'kube-apiserver', 'host.name': 'master-1', 'k8s.cluster.name': 'c0123456789abcdef0123456789abcdef', audit: 'apiserver', 'log.file.path': '/var/log/kubernetes/audit.log' });
    expect(o.requests[0]!.resource_logs[0].instrumentation_library_logs[0].instrumentation_library.name).toBe('tailship');
  });

  test('round-trip of every value kind and size boundary: the official decoder reads exactly what was written', () => {
    const { request } = loadOtlpProto();
    const rnd = seeded(7);
    const str = (n: number) => 'x€'.repeat(n).slice(0, n);
    for (let round = 0; round < 50; round++) {
      const len = Math.floor(rnd() * 300);
      const buf = encodeExportLogsRequest({
        resource: [['k', { string: str(len) }]],
        scope: { name: 's', version: '' },
        records: [
          {
            timeUnixNano: BigInt(Math.floor(rnd() * 2 ** 52)) * 1000n,
            observedTimeUnixNano: 1n,
            severityNumber: 9,
            severityText: 'INFO',
            eventName: 'k8s.audit',
            body: { string: str(len * 3) },
            attributes: [
              ['i', { int: -5n }],
              ['big', { int: 2n ** 62n }],
              ['d', { double: 1.5 }],
              ['b', { bool: true }],
              ['f', { bool: false }],
              ['e', { string: '' }],
              ['a', { array: [{ string: 'p' }, { int: 3n }, { array: [] }] }],
              ['m', { kvlist: [['x', { string: str(len) }]] }],
            ],
          },
        ],
      });
      const obj = request.toObject(request.decode(buf), { longs: String, defaults: false, arrays: true }) as any;
      const rec = obj.resource_logs[0].instrumentation_library_logs[0].log_records[0];
      expect(anyValue(rec.body)).toBe(str(len * 3));
      expect(attrs(rec.attributes)).toEqual({ i: -5, big: 2 ** 62, d: 1.5, b: true, f: undefined, e: '', a: ['p', 3, []], m: { x: str(len) } });
      expect(attrs(obj.resource_logs[0].resource.attributes)).toEqual({ k: str(len) });
    }
  });
});

describe('otlp sink answers', () => {
  test('429 / 503 retry with Retry-After; through the deliverer every record arrives once', async () => {
    const o = await startFakeOtlp((n) => (n % 3 === 1 ? { status: 429, retryAfter: '2' } : n % 4 === 0 ? { status: 503 } : undefined));
    closers.push(() => o.close());
    const first = await otlpSink(o).send(makeBatch()).catch((e: SinkError) => e);
    expect((first as SinkError).kind).toBe('retryable');
    expect((first as SinkError).retryAfterMs).toBe(2000);
    expect((first as SinkError).code).toBe(ErrorCodes.SINK_OTLP_EXPORT_FAILED);
    const metrics = createMetrics();
    const log = captureLogger('warn');
    const spool = createDeadLetterSpool(dir, { logger: log.logger, metrics });
    closers.push(() => spool.close());
    const sink = otlpSink(o, '?gzip=true', {}, spool);
    const deliverer = createDeliverer({ sink, deadLetter: spool, metrics, logger: log.logger, backoff: { baseMs: 1, capMs: 5, retryAfterCapMs: 5 } });
    closers.push(async () => deliverer.close());
    const batches = Array.from({ length: 8 }, (_, b) => makeBatch({ n: 25, first: b * 25 }));
    await Promise.all(batches.map((b) => deliverer.deliver(b)));
    const seqs = o.records().map((r) => JSON.parse(anyValue(r.body) as string).seq as number).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  test('a partial success with rejected records: the batch is dead-lettered with the message, and acknowledged', async () => {
    const o = await startFakeOtlp(() => ({ rejected: 2, message: 'log record too large' }));
    closers.push(() => o.close());
    const spool = createDeadLetterSpool(dir, { logger: captureLogger().logger });
    closers.push(() => spool.close());
    await otlpSink(o, '', {}, spool).send(makeBatch({ n: 5 }));
    const rec = JSON.parse(readFileSync(join(dir, 'dead-letter', 'audit-store.ndjson'), 'utf8'));
    expect(rec.code).toBe(ErrorCodes.SINK_OTLP_PARTIAL_REJECTED);
    expect(rec.reason).toMatch(/rejected 2 of 5.*log record too large/);
    expect(rec.logs).toHaveLength(5);
  });

  test('headers and auth: ?header.NAME=, TAILSHIP_OTLP_AUTHORIZATION; other schemas refused', async () => {
    const ctx = { logger: captureLogger().logger, metrics: createMetrics(), env: {}, stateDir: dir };
    expect(() => createSink('otlp+http://127.0.0.1:4318?schema=ecs', ctx)).toThrow(/remove \?schema=ecs/);
    expect(() => createSink('otlp+http://127.0.0.1:4318?foo=1', ctx)).toThrow(/unknown parameter/);
    expect(() => createSink('otlp+http://127.0.0.1:4318?header.content-type=x', ctx)).toThrow(/cannot be set/);
  });
});
