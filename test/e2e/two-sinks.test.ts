// Issue 14, "Must show": two sinks at once through the real agent (node dist/cli.js run), one of them down for a
// while. Nothing is lost in either, memory stays bounded, and the committed offset waits for both.
import fs from 'node:fs';
import { afterEach, expect, test, vi } from 'vitest';
import { createWorkspace, killAllAgents, scrapeMetric, type Workspace } from '../helpers/agent-process.js';
import { startFakeElasticsearch, type FakeEs } from '../helpers/fake-elasticsearch.js';
import { httpGet, mb, metricsPort, MiB, readCheckpoints, RssSampler, startCountingStore, writeNumberedBacklog, type CountingStore } from './support.js';

const BACKLOG_BYTES = 16 * MiB;
const BUDGET = 4 * MiB;
const DOWN_MS = 10_000;
const RSS_LIMIT = 150 * 1000 * 1000;

let ws: Workspace | undefined;
let store: CountingStore | undefined;
let es: FakeEs | undefined;
afterEach(async () => {
  await killAllAgents();
  await store?.close();
  await es?.close();
  ws?.cleanup();
  ws = store = es = undefined;
});

/** The value of one labelled sample, e.g. tailship_sink_up{sink="http"}. */
async function sample(port: number, name: string, sink: string): Promise<number | undefined> {
  const res = await httpGet(port, '/metrics');
  const m = res && new RegExp(`^${name}\\{sink="${sink}"\\} (\\S+)$`, 'm').exec(res.text);
  return m ? Number(m[1]) : undefined;
}

test('Elasticsearch up, an HTTP store down for 10 s: both get every event once, the offset waits for both, memory bounded', async () => {
  ws = createWorkspace('e2e-two-sinks');
  const facts: string[] = [];
  const { lines, bytes } = writeNumberedBacklog(ws.activePath, BACKLOG_BYTES, 1414);
  const fileSize = fs.statSync(ws.activePath).size;
  es = await startFakeElasticsearch({ rate429: 0.02 });
  store = await startCountingStore(lines, { up: false });

  const agent = ws.start([
    '--sink', `elasticsearch+${es.url}/k8s-audit`,
    '--sink', store.url,
    '--max-inflight-bytes', String(BUDGET),
    '--batch-max-bytes', String(256 * 1024),
    '--max-line-bytes', String(1 * MiB),
    '--listen', '127.0.0.1:0',
    '--log-level', 'info',
  ], { asCommand: true }); // the node flags and malloc settings `tailship` ships with, as the backpressure test
  const rss = new RssSampler(agent.pid, 200);
  try {
    const port = await metricsPort(agent);
    await vi.waitFor(
      async () => {
        if (agent.exit) throw new Error(`agent exited: ${agent.stderrTail()}`);
        expect(await scrapeMetric(port, 'tailship_read_paused')).toBe(1);
      },
      { timeout: 30_000, interval: 200 },
    );
    const tPaused = Date.now();
    const offsets = new Set<number>();
    let maxRead = 0;
    while (Date.now() - tPaused < DOWN_MS) {
      for (const s of readCheckpoints(ws.stateDir)) offsets.add(s.offset);
      maxRead = Math.max(maxRead, (await scrapeMetric(port, 'tailship_bytes_read_total')) ?? 0);
      await new Promise((r) => setTimeout(r, 250));
    }
    const esWhileDown = es.indices.get('k8s-audit')?.size ?? 0;
    facts.push(`while the http store was down: read ${mb(maxRead)}, elasticsearch had ${esWhileDown} of ${lines}, max RSS ${mb(rss.max)}`);
    // the sink that is up got what was read, but nothing is committed while the other has acknowledged nothing
    expect(esWhileDown).toBeGreaterThan(0);
    expect(esWhileDown).toBeLessThan(lines);
    expect([...offsets]).toEqual([0]);
    expect(maxRead).toBeLessThan(BUDGET * 2);
    await vi.waitFor(
      async () => {
        expect(await sample(port, 'tailship_sink_up', 'http')).toBe(0);
        expect(await sample(port, 'tailship_sink_up', 'elasticsearch')).toBe(1);
        expect(await sample(port, 'tailship_sink_pending_batches', 'http')).toBeGreaterThan(0);
      },
      { timeout: 10_000, interval: 200 },
    );
    expect.soft(rss.max, `max RSS while one sink was down: ${mb(rss.max)}`).toBeLessThan(RSS_LIMIT);

    await store.start();
    await vi.waitFor(
      () => {
        if (agent.exit) throw new Error(`agent exited: ${agent.stderrTail()}`);
        if (store!.distinct < lines) throw new Error(`http store has ${store!.distinct} of ${lines}`);
        const n = es!.indices.get('k8s-audit')?.size ?? 0;
        if (n < lines) throw new Error(`elasticsearch has ${n} of ${lines}`);
      },
      { timeout: 120_000, interval: 250 },
    );
    expect(store.missing()).toEqual([]);
    expect(store.foreign).toBe(0);
    const ids = new Set([...es.indices.get('k8s-audit')!.values()].map((d) => (d.kubernetes as { audit: { auditID: string } }).audit.auditID));
    expect(ids.size).toBe(lines);
    expect([...es.created.values()].every((n) => n === 1)).toBe(true);
    await vi.waitFor(async () => expect(await scrapeMetric(port, 'tailship_file_lag_bytes')).toBe(0), { timeout: 15_000, interval: 200 });
    await agent.stop();
    expect(readCheckpoints(ws.stateDir).map((s) => s.offset)).toEqual([fileSize]);
    facts.push(`then all ${lines} events (${mb(bytes)}) in both; http duplicates ${store.duplicates}, es 429 items ${es.stats.r429}, 409 ${es.stats.r409}; max RSS ${mb(rss.max)}`);
  } finally {
    rss.stop();
    console.log(`[e2e two sinks] ${facts.join('; ')}`);
  }
}, 180_000);


test('?format=eventlist through the real agent: a Falco-like webhook consumer gets every fixture event once, each item an Event as read', async () => {
  const { createServer } = await import('node:http');
  const { readdirSync, readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { AUDIT_FIXTURES } = await import('../helpers/audit-gen.js');
  ws = createWorkspace('e2e-eventlist');
  const dirPath = join(AUDIT_FIXTURES, 'falco-k8s_audit');
  const lines = readdirSync(dirPath)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => readFileSync(join(dirPath, f), 'utf8').split('\n'))
    .filter((l) => l.trim() !== '' && /"kind"\s*:\s*"Event"/.test(l));
  fs.writeFileSync(ws.activePath, `${lines.join('\n')}\n`);
  const items: string[] = [];
  const refused: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.headers['content-type'] !== 'application/json' || req.headers['content-encoding']) {
        refused.push(`${req.headers['content-type']} ${req.headers['content-encoding']}`);
        return res.writeHead(415).end();
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (body.kind !== 'EventList' || body.apiVersion !== 'audit.k8s.io/v1' || !Array.isArray(body.items)) {
        refused.push(`kind ${body.kind}`);
        return res.writeHead(400).end();
      }
      for (const item of body.items) {
        if (item.kind !== 'Event' || typeof item.auditID !== 'string' || '__time__' in item || '__tag__' in item) refused.push(`item ${JSON.stringify(item).slice(0, 80)}`);
        items.push(JSON.stringify(item));
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as { port: number }).port;
    const agent = ws.start(['--sink', `http://127.0.0.1:${port}/k8s-audit?format=eventlist`, '--sink', `file:${ws.outDir}`, '--exit-when-idle', '--batch-max-events', '10']);
    const exit = await agent.waitExit(45_000);
    expect(exit.code, agent.stderrTail()).toBe(0);
    expect(refused).toEqual([]);
    expect(items.sort()).toEqual(lines.map((l) => JSON.stringify(JSON.parse(l))).sort());
    expect(ws.reader().all()).toHaveLength(lines.length); // the file sink got them all too
  } finally {
    await new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); });
  }
}, 60_000);
