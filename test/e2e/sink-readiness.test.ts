// SPEC §10 (several sinks) + §5 through the real agent (node dist/cli.js run) with two sinks, a file and an HTTP
// store that is down: /readyz answers 503 naming the sink once it has failed for longer than
// TAILSHIP_SINK_UNHEALTHY_MS (60 s by default; 1.5 s here), and 200 again once the store is back and took the
// backlog. tailship_events_shipped_total counts each event once (when both sinks settled it), the per-sink
// counts are in tailship_sink_events_total{sink}.
import { afterEach, expect, test, vi } from 'vitest';
import { createWorkspace, killAllAgents, type Workspace } from '../helpers/agent-process.js';
import { httpGet, metricsPort, startCountingStore, writeNumberedBacklog, type CountingStore } from './support.js';

let ws: Workspace | undefined;
let store: CountingStore | undefined;
afterEach(async () => {
  await killAllAgents();
  await store?.close();
  ws?.cleanup();
  ws = store = undefined;
});

/** Sum of every sample of a metric whose labels match `labels` (a regex on the label text). */
async function total(port: number, name: string, labels = ''): Promise<number | undefined> {
  const res = await httpGet(port, '/metrics');
  if (!res) return undefined;
  const re = new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm');
  let sum: number | undefined;
  for (const m of res.text.matchAll(re)) if (m[1]!.includes(labels)) sum = (sum ?? 0) + Number(m[2]);
  return sum;
}

test('a sink down longer than TAILSHIP_SINK_UNHEALTHY_MS: /readyz 503 naming it, 200 once it is back; events shipped counted once', async () => {
  ws = createWorkspace('e2e-sink-readiness');
  const { lines } = writeNumberedBacklog(ws.activePath, 64 * 1024, 2020);
  store = await startCountingStore(lines, { up: false });
  const agent = ws.start(
    ['--sink', `file:${ws.outDir}`, '--sink', store.url, '--listen', '127.0.0.1:0', '--log-level', 'info', '--batch-max-wait', '50'],
    { env: { TAILSHIP_SINK_UNHEALTHY_MS: '1500' } },
  );
  const port = await metricsPort(agent);
  expect(agent.stderrTail()).not.toContain('is not a tailship variable'); // a known variable
  const alive = () => {
    if (agent.exit) throw new Error(`agent exited: ${agent.stderrTail()}`);
  };

  await vi.waitFor(
    async () => {
      alive();
      const r = await httpGet(port, '/readyz');
      expect(r?.status).toBe(503);
      expect(r?.text).toMatch(/^not ready: sink http failing for \d+ s: /);
    },
    { timeout: 20_000, interval: 100 },
  );
  // The file sink is up: it is not named.
  expect((await httpGet(port, '/readyz'))?.text).not.toMatch(/sink file/);
  expect((await total(port, 'tailship_events_shipped_total')) ?? 0).toBe(0); // nothing settled by both sinks yet

  await store.start();
  await vi.waitFor(
    async () => {
      alive();
      expect(store!.distinct).toBe(lines);
      expect((await httpGet(port, '/readyz'))?.status).toBe(200);
    },
    { timeout: 30_000, interval: 100 },
  );
  expect((await httpGet(port, '/readyz'))?.text).toBe('ready\n');
  await vi.waitFor(
    async () => {
      alive();
      expect(await total(port, 'tailship_events_shipped_total')).toBe(lines); // once, not once per sink
      expect(await total(port, 'tailship_sink_events_total', 'sink="file"')).toBe(lines);
      expect(await total(port, 'tailship_sink_events_total', 'sink="http"')).toBe(lines);
    },
    { timeout: 15_000, interval: 100 },
  );
  expect(ws.reader().all()).toHaveLength(lines);
  await agent.stop();
}, 60_000);

test('TAILSHIP_SINK_UNHEALTHY_MS that is not a number of milliseconds: exit 2 naming it', async () => {
  ws = createWorkspace('e2e-sink-readiness-bad');
  writeNumberedBacklog(ws.activePath, 1024, 1);
  const agent = ws.start(['--sink', `file:${ws.outDir}`, '--listen', 'off'], { env: { TAILSHIP_SINK_UNHEALTHY_MS: '10s' } });
  const exit = await agent.waitExit(20_000);
  expect(exit.code, agent.stderrTail()).toBe(2);
  expect(agent.stderrTail()).toContain('TAILSHIP_SINK_UNHEALTHY_MS=10s is not valid');
  expect(agent.stderrTail()).not.toContain('is not a tailship variable');
}, 30_000);
