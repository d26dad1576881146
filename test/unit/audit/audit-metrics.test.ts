import { Histogram, Registry } from 'prom-client';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, test } from 'vitest';
import { auditFacts, codeClassOf, createAuditMetricsStage, timestamps, userKindOf } from '../../../src/audit/audit-metrics.js';
import { tableFacts } from '../../../src/audit/audit-facts-table.js';
import { TopLevel } from '../../../src/audit/json-top.js';
import { DURATION_BUCKETS } from '../../../src/audit/metrics-registry.js';
import { parseLine } from '../../../src/parse/parse-line.js';
import { ctxOf, eventOf, fixtureLines, realAuditLines } from './support.js';

interface Family {
  name: string;
  metrics: Array<{ labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string; sum?: string }>;
}

async function families(registry: Registry): Promise<Map<string, Family>> {
  const parsed = parsePrometheusTextFormat(await registry.metrics()) as Family[];
  return new Map(parsed.map((f) => [f.name, f]));
}

/** Seconds of an RFC 3339 time with its microseconds (Date.parse keeps milliseconds only). */
const secs = (t: string) => {
  const frac = /\.(\d+)Z$/.exec(t)?.[1] ?? '0';
  return Date.parse(t.replace(/\.\d+Z$/, 'Z')) / 1000 + Number(`0.${frac}`);
};

describe('audit-derived metrics', () => {
  test("the facts from the parser's member table are those of a walk of the text (or it declines)", () => {
    const tricky = [
      '{"verb":"get","verb":"list","user":{"username":"a","username":"b"},"stage":"ResponseComplete","responseStatus":{"code":403}}',
      '{"verb":"g\\u0065t","user":{"username":"x"}}',
      '{"user":{"username":"system:\\u006eode:n1"},"verb":"get"}',
      '{"objectRef":{"resource":"pods","resource":"secrets","subresource":"exec","apiGroup":""},"stage":"RequestReceived","responseStatus":{"code":200}}',
      '{"objectRef":{"res\\u006furce":"pods"},"user":"not an object","responseStatus":[1],"stageTimestamp":5}',
      '{"requestReceivedTimestamp":"2024-01-01T00:00:00.5Z","stageTimestamp":"2024-01-01T00:00:01Z","stage":"ResponseComplete"}',
    ];
    let fromTable = 0;
    for (const line of [...realAuditLines().map((l) => l.line), ...tricky]) {
      expect(parseLine(line, false, true, 0).isObject).toBe(true);
      const t = tableFacts(line);
      const top = new TopLevel(line);
      const want = { ...auditFacts(line, top) };
      const [received, stageTs] = timestamps(line, top);
      if (!t) continue; // declined (a value needs decoding): the stage takes the walk
      fromTable++;
      const { received: r, stageTs: s, ...rest } = t;
      expect(JSON.parse(JSON.stringify(rest)), line).toEqual(JSON.parse(JSON.stringify(want)));
      expect([r, s]).toEqual([received, stageTs]);
    }
    expect(fromTable).toBeGreaterThan(realAuditLines().length - 5);
  });

  test('user kinds and code classes (no raw names)', () => {
    expect(userKindOf('system:serviceaccount:kube-system:coredns')).toBe('serviceaccount');
    expect(userKindOf('system:node:node-1')).toBe('node');
    expect(userKindOf('system:anonymous')).toBe('anonymous');
    expect(userKindOf(undefined)).toBe('anonymous');
    expect(userKindOf('system:kube-scheduler')).toBe('system');
    expect(userKindOf('alice@example.com')).toBe('human');
    expect(codeClassOf(201)).toBe('2xx');
    expect(codeClassOf(403)).toBe('4xx');
    expect(codeClassOf(503)).toBe('5xx');
    expect(codeClassOf(undefined)).toBe('none');
    expect(codeClassOf(999)).toBe('none');
  });

  test('counts every event as read by verb, code_class and user_kind; the latency of ResponseComplete events', async () => {
    const registry = new Registry();
    const stage = createAuditMetricsStage(registry);
    const lines = [...realAuditLines().map((l) => l.line), ...fixtureLines('audit-redact/secrets.ndjson')];
    const expected = new Map<string, number>();
    let complete = 0;
    let sum = 0;
    for (const line of lines) {
      const ev = eventOf(line);
      expect(stage(ev, ctxOf())).toBe(ev);
      if (!ev.isObject) continue;
      const o = JSON.parse(line) as { verb?: string; user?: { username?: string }; responseStatus?: { code?: number }; stage?: string; requestReceivedTimestamp?: string; stageTimestamp?: string };
      const verb = o.verb ?? 'none';
      const key = `${['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'].includes(verb) ? verb : verb === 'none' ? 'none' : 'other'}|${codeClassOf(o.responseStatus?.code)}|${userKindOf(o.user?.username)}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
      if (o.stage === 'ResponseComplete' && o.requestReceivedTimestamp && o.stageTimestamp) {
        complete++;
        sum += secs(o.stageTimestamp) - secs(o.requestReceivedTimestamp);
      }
    }
    const f = await families(registry);
    const got = new Map(f.get('tailship_audit_events_total')!.metrics.map((m) => [`${m.labels!.verb}|${m.labels!.code_class}|${m.labels!.user_kind}`, Number(m.value)]));
    expect(got).toEqual(expected);
    // the parser drops the labels of histogram series: read _count and _sum lines directly
    const text = await registry.metrics();
    const series = (suffix: string) => [...text.matchAll(new RegExp(`^tailship_audit_request_duration_seconds_${suffix}\\{verb="([a-z]+)"\\} (\\S+)$`, 'gm'))].map((m) => [m[1]!, Number(m[2])] as const);
    expect(series('count').reduce((n, [, v]) => n + v, 0)).toBe(complete);
    expect(series('sum').reduce((n, [, v]) => n + v, 0)).toBeCloseTo(sum, 5);
    expect(series('count').length).toBeGreaterThan(2);
  });

  test('sensitive requests once per request: exec, rbac writes, secret reads by humans, 403', async () => {
    const registry = new Registry();
    const stage = createAuditMetricsStage(registry);
    const byName = new Map(realAuditLines().map((l) => [l.name, l.line]));
    const ev = (o: object) => eventOf(JSON.stringify(o));
    stage(eventOf(byName.get('exec_pod.json')!), ctxOf());
    stage(eventOf(byName.get('create_clusterrolebinding.json')!), ctxOf());
    stage(ev({ auditID: 'r', stage: 'RequestReceived', verb: 'get', user: { username: 'bob' }, objectRef: { resource: 'secrets' } }), ctxOf());
    stage(ev({ auditID: 'r', stage: 'ResponseComplete', verb: 'get', user: { username: 'bob' }, objectRef: { resource: 'secrets' }, responseStatus: { code: 200 } }), ctxOf());
    stage(ev({ auditID: 's', stage: 'ResponseComplete', verb: 'get', user: { username: 'system:serviceaccount:a:b' }, objectRef: { resource: 'secrets' }, responseStatus: { code: 200 } }), ctxOf());
    stage(ev({ auditID: 'f', stage: 'ResponseComplete', verb: 'list', user: { username: 'eve' }, objectRef: { resource: 'pods' }, responseStatus: { code: 403 } }), ctxOf());
    const f = await families(registry);
    const got = Object.fromEntries(f.get('tailship_audit_sensitive_events_total')!.metrics.map((m) => [m.labels!.kind, Number(m.value)]));
    expect(got).toEqual({ pod_exec: 1, rbac_write: 1, secret_read_human: 1, forbidden: 1 });
  });

  test('a crafted verb does not make a new label value; non-JSON lines and odd shapes are skipped', async () => {
    const registry = new Registry();
    const stage = createAuditMetricsStage(registry);
    stage(eventOf('{"verb":"x-made-up-verb-1","user":"not an object","responseStatus":{"code":"200"}}'), ctxOf());
    stage({ raw: 'text', isObject: false, time: 1, timeNs: 0 }, ctxOf());
    const f = await families(registry);
    expect(f.get('tailship_audit_events_total')!.metrics.map((m) => m.labels)).toEqual([{ verb: 'other', code_class: 'none', user_kind: 'anonymous' }]);
  });
});

test("the request-duration histogram, tallied and handed over on scrape, is exactly what prom-client's observe gives", async () => {
  const registry = new Registry();
  const stage = createAuditMetricsStage(registry);
  const reference = new Registry();
  const h = new Histogram({ name: 'tailship_audit_request_duration_seconds', help: 'x', labelNames: ['verb'], buckets: DURATION_BUCKETS, registers: [reference] });
  const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString().replace('Z', '000Z');
  // on a bound, just over it, 0, and over the last bound (only in +Inf); twice scraped in between
  const cases: Array<[string, number]> = [['get', 5], ['get', 6], ['list', 0], ['watch', 1_900_000], ['get', 250], ['create', 1000], ['list', 29_999]];
  let text = '';
  for (const [i, [verb, ms]] of cases.entries()) {
    stage(eventOf(JSON.stringify({ kind: 'Event', auditID: `a${i}`, stage: 'ResponseComplete', verb, user: { username: 'bob' }, requestReceivedTimestamp: at(0), stageTimestamp: at(ms) })), ctxOf());
    h.observe({ verb }, ms / 1000);
    if (i === 2 || i === 4) text = await registry.metrics(); // a scrape midway hands over what was tallied so far
  }
  expect(text).toContain('tailship_audit_request_duration_seconds_count{verb="list"} 1');
  const family = (t: string) => t.split('\n').filter((l) => l.startsWith('tailship_audit_request_duration_seconds_')).sort();
  expect(family(await registry.metrics())).toEqual(family(await reference.metrics()));
  expect(family(await registry.metrics())).toEqual(family(await reference.metrics())); // a second scrape adds nothing
});
