/// <reference path="./parse-prometheus-text-format.d.ts" />
// Item 13 of issue 10: metrics an operator can alert on from the first scrape, per input, with a checkpoint age that
// means something, build info, and a text that `promtool check metrics` accepts.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/observe/metrics.js';
import { createWorkspace, killAllAgents, waitUntil, type Workspace } from '../../helpers/agent-process.js';
import { startFakeHttpStore, type FakeHttpStore } from '../../helpers/fake-http-store.js';
import { httpGet, metricsPort } from '../../e2e/support.js';

const workspaces: Workspace[] = [];
let store: FakeHttpStore | undefined;
afterEach(async () => {
  await killAllAgents();
  await store?.close();
  store = undefined;
  for (const w of workspaces.splice(0)) w.cleanup();
});

function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = parsePrometheusTextFormat(text).find((f) => f.name === name);
  const m = family?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  return m?.value === undefined ? undefined : Number(m.value);
}

const promtool = spawnSync('promtool', ['--version']).status === 0;

/** An agent with two inputs (a, b) shipping to an HTTP store, its /metrics port. */
async function startTwoInputs(): Promise<{ w: Workspace; port: number; agent: ReturnType<Workspace['start']> }> {
  store = await startFakeHttpStore();
  const w = createWorkspace('metrics');
  workspaces.push(w);
  fs.writeFileSync(path.join(w.logDir, 'a.log'), 'one\ntwo\nthree\n');
  fs.writeFileSync(path.join(w.logDir, 'b.log'), 'four\n');
  fs.writeFileSync(w.envFile, `aliyun_logs_a=${w.logDir}/a.log\naliyun_logs_b=${w.logDir}/b.log\n`);
  const agent = w.start(['--sink', store.url, '--listen', '127.0.0.1:0', '--log-level', 'info']);
  const port = await metricsPort(agent);
  return { w, port, agent };
}

describe('item 13: metrics', () => {
  it('item 13: failure and retry counters have a series (0) per sink from the start', async () => {
    const m = createMetrics();
    m.initSink('http');
    const text = await m.registry.metrics();
    for (const name of ['tailship_batches_failed_total', 'tailship_batch_retries_total', 'tailship_batches_shipped_total']) {
      expect(sample(text, name, { sink: 'http' }), name).toBe(0);
    }
  });

  it('item 13: tailship_build_info{version,node} is 1', async () => {
    const text = await createMetrics().registry.metrics();
    const pkg = JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(sample(text, 'tailship_build_info', { version: pkg.version, node: process.versions.node })).toBe(1);
  });

  it('item 13: checkpoint age is the age of the oldest unsaved change, 0 when all is saved', async () => {
    const m = createMetrics();
    const age = async () => sample(await m.registry.metrics(), 'tailship_checkpoint_age_seconds');
    expect(await age()).toBe(0);
    m.checkpointDirty(true, Date.now() - 5000);
    m.checkpointDirty(true); // a later change does not make the oldest one younger
    expect(await age()).toBeGreaterThanOrEqual(5);
    m.checkpointDirty(false);
    expect(await age()).toBe(0);
  });

  it('item 13: the real agent: per-input line and byte counters, sink series at 0, checkpoint age 0 while idle', async () => {
    const { port, agent } = await startTwoInputs();
    await waitUntil(() => store!.logs().length === 4, () => `4 logs in the store (have ${store!.logs().length})`, { agent });
    const text = (await httpGet(port, '/metrics'))!.text;
    expect(sample(text, 'tailship_lines_read_total', { input: 'a' })).toBe(3);
    expect(sample(text, 'tailship_lines_read_total', { input: 'b' })).toBe(1);
    expect(sample(text, 'tailship_bytes_read_total', { input: 'a' })).toBe('one\ntwo\nthree\n'.length);
    expect(sample(text, 'tailship_bytes_read_total', { input: 'b' })).toBe(5);
    expect(sample(text, 'tailship_batches_failed_total', { sink: 'http' })).toBe(0);
    expect(sample(text, 'tailship_batch_retries_total', { sink: 'http' })).toBe(0);
    // Idle and saved: the age stays at 0 over several checkpoint ticks (1 s each) instead of rising.
    const ages: number[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < 3500) {
      ages.push(sample((await httpGet(port, '/metrics'))!.text, 'tailship_checkpoint_age_seconds')!);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(ages.slice(-3)).toEqual([0, 0, 0]);
  });

  it.skipIf(!promtool)('item 13: `promtool check metrics` accepts the real agent /metrics', async () => {
    const { port, agent } = await startTwoInputs();
    await waitUntil(() => store!.logs().length === 4, () => '4 logs in the store', { agent });
    const text = (await httpGet(port, '/metrics'))!.text;
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
  if (!promtool) it.skip('item 13: promtool check metrics skipped: promtool is not installed (Debian package `prometheus`)', () => undefined);
});
