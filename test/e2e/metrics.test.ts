// Issue 4, "Must show": scrape the real agent's /metrics, parse it with a Prometheus text-format parser, and check
// that the counters match what was written and what the store received (SPEC §5).
import fs from 'node:fs';
import parsePrometheusTextFormat, { type PromFamily } from 'parse-prometheus-text-format';
import { afterEach, expect, test, vi } from 'vitest';
import { createWorkspace, killAllAgents, type Workspace } from '../helpers/agent-process.js';
import { createAuditGen } from '../helpers/audit-gen.js';
import { startFakeHttpStore, type FakeHttpStore } from '../helpers/fake-http-store.js';
import { httpGet, metricsPort } from './support.js';

let ws: Workspace | undefined;
let store: FakeHttpStore | undefined;
afterEach(async () => {
  await killAllAgents();
  await store?.close();
  ws?.cleanup();
  ws = undefined;
  store = undefined;
});

/** Lines of a JSON input that are not one JSON object: each is shipped as content with __parse_error__ and counted. */
const INVALID_LINES = [
  'not json at all',
  '{"auditID": "cut-in-the-middle", "stage": "Resp',
  '[1,2,3]',
  '"just a string"',
  '42',
  'null',
  '{"kind":"Event"} trailing garbage',
];

async function scrape(port: number): Promise<PromFamily[]> {
  const res = await httpGet(port, '/metrics');
  if (!res || res.status !== 200) throw new Error(`GET /metrics answered ${res?.status ?? 'nothing'}`);
  return parsePrometheusTextFormat(res.text);
}

/** The value of the sample of `name` whose labels include `labels` (undefined when there is none). */
function sample(families: PromFamily[], name: string, labels: Record<string, string> = {}): number | undefined {
  const fam = families.find((f) => f.name === name);
  const m = fam?.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
  return m?.value === undefined ? undefined : Number(m.value);
}

test('/metrics parsed as Prometheus text: lines, bytes, invalid lines, shipped events, failed batches and lag match reality; /healthz and /readyz answer 200', async () => {
  ws = createWorkspace('e2e-metrics');
  // 2000 seeded audit events with the invalid lines planted among them.
  const gen = createAuditGen({ seed: 55, largeRate: 0 });
  const lines = [...gen.take(2000), ...gen.drain()].map((l) => l.line);
  const events = lines.length;
  INVALID_LINES.forEach((bad, i) => lines.splice(1 + i * Math.floor(lines.length / INVALID_LINES.length), 0, `${bad}\n`));
  fs.writeFileSync(ws.activePath, lines.join(''));
  const fileSize = fs.statSync(ws.activePath).size;

  // Three 503s (one per request, the first three) so that tailship_batches_failed_total has something to count.
  store = await startFakeHttpStore({ dedupe: false });
  store.setFault(({ n }) => (n <= 3 ? { status: 503, body: 'busy' } : 'ok'));
  const agent = ws.start(['--sink', store.url, '--listen', '127.0.0.1:0', '--log-level', 'info', '--batch-max-events', '500']);
  const port = await metricsPort(agent);

  const total = events + INVALID_LINES.length;
  await vi.waitFor(
    () => {
      if (agent.exit) throw new Error(`agent exited: ${agent.stderrTail()}`);
      expect(store!.logs().length).toBe(total);
    },
    { timeout: 30_000, interval: 100 },
  );
  // The lag gauge is refreshed once a second: wait for it to reach 0 rather than sleeping.
  const lagPath = ws.activePath;
  await vi.waitFor(async () => expect(sample(await scrape(port), 'tailship_file_lag_bytes', { path: lagPath })).toBe(0), { timeout: 15_000, interval: 200 });

  const m = await scrape(port);
  const byName = new Map(m.map((f) => [f.name, f]));
  for (const name of [
    'tailship_bytes_read_total',
    'tailship_lines_read_total',
    'tailship_lines_invalid_total',
    'tailship_events_shipped_total',
    'tailship_batches_failed_total',
    'tailship_batches_dead_lettered_total',
    'tailship_file_lag_bytes',
    'tailship_bytes_lost_total',
    'tailship_checkpoint_age_seconds',
  ]) {
    expect(byName.has(name), `${name} in /metrics`).toBe(true);
  }
  expect(byName.get('tailship_events_shipped_total')!.type).toBe('COUNTER');
  expect(byName.get('tailship_file_lag_bytes')!.type).toBe('GAUGE');

  const stored = store.logs();
  const storedInvalid = stored.filter((l) => (l.__tag__ as Record<string, string> | undefined)?.__parse_error__).length;
  const failedAnswers = store.requests.filter((r) => r.outcome === '503').length;

  expect(sample(m, 'tailship_lines_read_total')).toBe(total);
  expect(sample(m, 'tailship_bytes_read_total')).toBe(fileSize);
  expect(sample(m, 'tailship_lines_invalid_total')).toBe(INVALID_LINES.length);
  expect(storedInvalid).toBe(INVALID_LINES.length);
  expect(sample(m, 'tailship_events_shipped_total', { logstore: ws.logstore })).toBe(stored.length);
  expect(sample(m, 'tailship_batches_shipped_total', { sink: 'http' })).toBe(store.received.length);
  expect(failedAnswers).toBe(3);
  expect(sample(m, 'tailship_batches_failed_total', { sink: 'http' })).toBe(failedAnswers);
  expect(sample(m, 'tailship_batches_dead_lettered_total')).toBe(0);
  expect(sample(m, 'tailship_bytes_lost_total')).toBe(0);
  expect(sample(m, 'tailship_file_lag_bytes', { path: ws.activePath })).toBe(0);
  expect(sample(m, 'tailship_checkpoint_age_seconds')).toBeGreaterThanOrEqual(0);

  expect(await httpGet(port, '/healthz')).toMatchObject({ status: 200 });
  expect(await httpGet(port, '/readyz')).toMatchObject({ status: 200 });
  await agent.stop();
  console.log(
    `[e2e metrics] ${total} lines (${INVALID_LINES.length} invalid), ${fileSize} bytes, ${stored.length} events stored in ${store.received.length} batches, ${failedAnswers} failed answers`,
  );
}, 60_000);
