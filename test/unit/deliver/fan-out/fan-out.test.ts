import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createDeadLetterSpool, type DeadLetterSpool } from '../../../../src/deliver/dead-letter.js';
import { createFanOut, stagesNotAvailable, takeFanOutParams, type MakeSinkStages } from '../../../../src/deliver/fan-out.js';
import type { Sink } from '../../../../src/deliver/sink.js';
import { SinkError } from '../../../../src/deliver/sink.js';
import { ErrorCodes, TailshipError } from '../../../../src/errors.js';
import { createMetrics } from '../../../../src/observe/metrics.js';
import type { EventProcessor } from '../../../../src/process/stage.js';
import { parseCommandLine } from '../../../../src/config/options.js';
import { captureLogger, deferred, makeBatch, retryable, scriptedSink, tempDir, virtualTime, type Script } from '../support.js';

let dir: string;
let cleanup: () => Promise<void>;
const spools: DeadLetterSpool[] = [];
beforeEach(async () => ({ dir, cleanup } = await tempDir('tailship-fanout-')));
afterEach(async () => {
  await Promise.all(spools.splice(0).map((s) => s.close()));
  await cleanup();
});

function setup(scripts: Record<string, Script>, makeStages?: MakeSinkStages) {
  const metrics = createMetrics();
  const log = captureLogger();
  const time = virtualTime();
  const deadLetter = createDeadLetterSpool(dir, { logger: log.logger, metrics });
  spools.push(deadLetter);
  const sinks = new Map<string, ReturnType<typeof scriptedSink>>();
  const fan = createFanOut({
    uris: Object.keys(scripts),
    ctx: { logger: log.logger, metrics, env: {}, stateDir: dir, deadLetter },
    deadLetter,
    makeStages,
    createSinkFn: (uri) => {
      const key = Object.keys(scripts).find((k) => k === uri || k.split('?')[0] === uri.split('?')[0])!;
      const s = scriptedSink(scripts[key]!, uri.split(':')[0]);
      sinks.set(uri, s);
      return s as Sink;
    },
    deliverer: { sleep: time.sleep, now: time.now, random: () => 0.5 },
    now: time.now,
    statusLogEveryMs: 0,
  });
  return { fan, sinks, metrics, time, log, deadLetter };
}

describe('fan-out: one read, every sink', () => {
  test('every sink gets every batch; the batch settles only when both acknowledged', async () => {
    const slow = deferred();
    const t = setup({ 'a:1': () => 'ok', 'b:1': () => slow.promise });
    let settled = false;
    const p = t.fan.deliver(makeBatch({ n: 4 })).then((o) => ((settled = true), o));
    await t.time.settle();
    expect(t.sinks.get('a:1')!.calls).toHaveLength(1);
    expect(t.sinks.get('b:1')!.calls).toHaveLength(1);
    expect(settled).toBe(false); // b has not acknowledged: the offset must wait
    expect(t.fan.status().find((s) => s.sink === 'b')!.pendingBatches).toBe(1);
    slow.resolve();
    expect(await p).toBe('delivered');
    expect(t.fan.status().every((s) => s.pendingBatches === 0)).toBe(true);
  });

  test('a sink that is down is retried on its own while the other is not sent anything twice; status says so', async () => {
    let down = true;
    const t = setup({ 'a:1': () => 'ok', 'b:1': () => (down ? retryable() : 'ok') });
    let settled = false;
    const p = t.fan.deliver(makeBatch()).then(() => (settled = true));
    await t.time.run(60_000);
    expect(settled).toBe(false);
    expect(t.sinks.get('a:1')!.calls).toHaveLength(1);
    expect(t.sinks.get('b:1')!.calls.length).toBeGreaterThan(3);
    expect(t.fan.unhealthy(10_000)).toMatch(/sink b failing/);
    const up = (await t.metrics.registry.getSingleMetric('tailship_sink_up')!.get()).values;
    expect(up.find((v) => v.labels.sink === 'b')!.value).toBe(0);
    expect(up.find((v) => v.labels.sink === 'a')!.value).toBe(1);
    down = false;
    await t.time.run(200_000, () => settled);
    await p;
    expect(t.sinks.get('a:1')!.calls).toHaveLength(1);
    expect(t.fan.unhealthy(0)).toBeUndefined();
  });

  test('a batch one sink rejects is dead-lettered for that sink only, and still settles', async () => {
    const t = setup({ 'a:1': () => 'ok', 'b:1': () => new SinkError('rejected', 'bad', { statusCode: 400 }) });
    expect(await t.fan.deliver(makeBatch())).toBe('dead-lettered');
    const spooled = (await readFile(join(dir, 'dead-letter', 'audit-store.ndjson'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(spooled).toHaveLength(1);
    expect(spooled[0].sink).toBe('b');
  });

  test('repeated sink types get distinct labels; ?name= names one', () => {
    const t = setup({ 'a:1': () => 'ok', 'a:2': () => 'ok', 'a:3?name=archive': () => 'ok' });
    expect(t.fan.labels).toEqual(['a', 'a-2', 'archive']);
  });

  test('close() aborts every sink deliverer: an unsettled batch rejects (not committed)', async () => {
    const t = setup({ 'a:1': () => 'ok', 'b:1': () => new Promise(() => undefined) });
    const p = t.fan.deliver(makeBatch());
    await t.time.settle();
    t.fan.close();
    await expect(p).rejects.toThrow(/closed/);
  });
});

describe('fan-out: tailship_events_shipped_total counts an event once (SPEC §5: per logstore), per sink in tailship_sink_events_total', () => {
  const value = async (t: ReturnType<typeof setup>, name: string, labels: Record<string, string>) =>
    (await t.metrics.registry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;

  test('two sinks: counted once, when both acknowledged; each sink has its own count', async () => {
    const slow = deferred();
    const t = setup({ 'a:1': () => 'ok', 'b:1': () => slow.promise });
    const p = t.fan.deliver(makeBatch({ n: 5 }));
    await t.time.settle();
    expect(await value(t, 'tailship_events_shipped_total', { logstore: 'audit-store' })).toBe(0); // b has not acknowledged
    expect(await value(t, 'tailship_sink_events_total', { sink: 'a' })).toBe(5);
    slow.resolve();
    await p;
    expect(await value(t, 'tailship_events_shipped_total', { logstore: 'audit-store' })).toBe(5);
    expect(await value(t, 'tailship_sink_events_total', { sink: 'a' })).toBe(5);
    expect(await value(t, 'tailship_sink_events_total', { sink: 'b' })).toBe(5);
    await t.fan.deliver(makeBatch({ n: 3 }));
    expect(await value(t, 'tailship_events_shipped_total', { logstore: 'audit-store' })).toBe(8);
  });

  test('a sink that split a batch (413) and dead-lettered one half: only what both settled without the dead letter counts', async () => {
    const t = setup({
      'a:1': () => 'ok',
      'b:1': (b) => (b.events.length > 2 ? new SinkError('too-large', 'big', { statusCode: 413 }) : b.id.endsWith('.1') ? new SinkError('rejected', 'bad', { statusCode: 400 }) : 'ok'),
    });
    expect(await t.fan.deliver(makeBatch({ n: 4 }))).toBe('dead-lettered');
    expect(await value(t, 'tailship_events_shipped_total', { logstore: 'audit-store' })).toBe(2);
  });

  test('one sink: as before, the deliverer counts what the store acknowledged', async () => {
    const t = setup({ 'a:1': () => 'ok' });
    await t.fan.deliver(makeBatch({ n: 4 }));
    expect(await value(t, 'tailship_events_shipped_total', { logstore: 'audit-store' })).toBe(4);
  });
});

describe('fan-out: per-sink stages', () => {
  const dropOdd: EventProcessor = (e) => (JSON.parse(e.raw).seq % 2 === 1 ? null : e);

  test('a sink with ?policy= gets its stages; a dropped event is not sent to it, the batch still settles', async () => {
    const specs: unknown[] = [];
    const t = setup({ 'a:1': () => 'ok', 'b:1?policy=/p.yaml&redact=secrets': () => 'ok' }, (spec, label) => {
      specs.push({ spec, label });
      return label === 'b' ? [dropOdd] : [];
    });
    expect(specs).toEqual([{ spec: {}, label: 'a' }, { spec: { policy: '/p.yaml', redact: 'secrets' }, label: 'b' }]);
    expect(await t.fan.deliver(makeBatch({ n: 6 }))).toBe('delivered');
    expect(t.sinks.get('a:1')!.calls[0]!.events).toBe(6);
    expect(t.sinks.get('b:1')!.calls[0]!.events).toBe(3);
    // the sink URI the sink sees has no ?policy= / ?redact=
    expect([...t.sinks.keys()]).toEqual(['a:1', 'b:1']);
  });

  test('every event dropped for a sink: nothing sent to it, the batch settles', async () => {
    const t = setup({ 'a:1': () => 'ok', 'b:1?policy=x': () => 'ok' }, (_s, label) => (label === 'b' ? [() => null] : []));
    expect(await t.fan.deliver(makeBatch({ n: 2 }))).toBe('delivered');
    expect(t.sinks.get('b:1')!.calls).toHaveLength(0);
  });

  test('without a stage factory, ?policy= is a clear error with a stable code', () => {
    expect(() => stagesNotAvailable({ policy: 'x' }, 'http')).toThrow(TailshipError);
    try {
      stagesNotAvailable({ redact: 'all' }, 'http');
    } catch (e) {
      expect((e as TailshipError).code).toBe(ErrorCodes.SINK_STAGES_UNAVAILABLE);
    }
    expect(stagesNotAvailable({}, 'http')).toEqual([]);
  });

  test('takeFanOutParams keeps the sink\'s own query parameters', () => {
    expect(takeFanOutParams('http://h/p?gzip=false&policy=%2Fa%20b.yaml&header.X=1&name=n1')).toEqual({
      rest: 'http://h/p?gzip=false&header.X=1',
      spec: { policy: '/a b.yaml' },
      name: 'n1',
    });
    expect(() => takeFanOutParams('http://h/?name=a%20b')).toThrow(TailshipError);
  });
});

describe('--sink is repeatable', () => {
  test('flags: every --sink in order, sink = the first', () => {
    const c = parseCommandLine(['run', '--sink', 'stdout:', '--sink', 'http://127.0.0.1:1/x?redact=secrets,tokens'], {});
    expect(c.options.sinks).toEqual(['stdout:', 'http://127.0.0.1:1/x?redact=secrets,tokens']);
    expect(c.options.sink).toBe('stdout:');
  });
  test('TAILSHIP_SINK comma-separated; a comma inside a URI parameter stays in it', () => {
    const c = parseCommandLine(['run'], { TAILSHIP_SINK: 'file:./out,loki+http://127.0.0.1:3100?redact=secrets,tokens, elasticsearch+http://127.0.0.1:9200/audit' });
    expect(c.options.sinks).toEqual(['file:./out', 'loki+http://127.0.0.1:3100?redact=secrets,tokens', 'elasticsearch+http://127.0.0.1:9200/audit']);
  });
  test('default: one file sink', () => {
    expect(parseCommandLine(['run'], {}).options.sinks).toEqual(['file:./tailship-out']);
  });
});

describe('fan-out: ?schema= on a sink that does not shape its own requests', () => {
  test('file:DIR?schema=ecs writes ECS documents; a second file sink without it writes raw logs', async () => {
    const metrics = createMetrics();
    const log = captureLogger('warn');
    const deadLetter = createDeadLetterSpool(dir, { logger: log.logger, metrics });
    spools.push(deadLetter);
    const fan = createFanOut({ uris: [`file:${dir}/ecs?schema=ecs`, `file:${dir}/raw`], ctx: { logger: log.logger, metrics, env: {}, stateDir: dir, deadLetter }, deadLetter, statusLogEveryMs: 0 });
    expect(await fan.deliver(makeBatch({ n: 2 }))).toBe('delivered');
    fan.close();
    await fan.closeSinks();
    const ecs = (await readFile(join(dir, 'ecs', 'audit-store.ndjson'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const raw = (await readFile(join(dir, 'raw', 'audit-store.ndjson'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(ecs[0].kubernetes.audit.auditID).toBe('id-0');
    expect(ecs[0].event.kind).toBe('event');
    expect(raw[0].auditID).toBe('id-0');
    expect(fan.labels).toEqual(['file', 'file-2']);
  });
});
