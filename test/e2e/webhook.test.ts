// Issue 13, "Must show": the real agent (node dist/cli.js run) receiving the API server's audit webhook over HTTPS
// with a client certificate; what the file sink (or a slow HTTP store) got is compared with what was answered 200.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { startFakeHttpStore, type FakeHttpStore } from '../helpers/fake-http-store.js';
import { freePort, killAllAgents, startAgent, waitForLogs, waitUntil, type AgentProcess } from '../helpers/agent-process.js';
import { logKey, SinkReader } from '../helpers/ndjson.js';
import { makeCerts, type TestCerts } from '../unit/inputs/webhook/certs.js';
import { eventList, post } from '../unit/inputs/webhook/post.js';
import { RssSampler } from './support.js';

const DOCS = fs.readFileSync(new URL('../fixtures/eventlists/k8s-docs-1.8-webhook-eventlist.v1beta1.json', import.meta.url));
const DOCS_KEY = '24f30caf-d7d4-45d5-b7bd-e7af300d7886 ResponseComplete';
const LOGSTORE = 'audit-webhook';

let root: string;
let certs: TestCerts;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-webhook-'));
  certs = makeCerts(path.join(root, 'certs'));
}, 30_000);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let store: FakeHttpStore | undefined;
afterEach(async () => {
  await killAllAgents();
  await store?.close();
  store = undefined;
});

interface Setup {
  dir: string;
  stateDir: string;
  outDir: string;
  port: number;
  start(extra?: string[]): Promise<AgentProcess>;
  reader(): SinkReader;
}

async function setup(name: string): Promise<Setup> {
  const dir = fs.mkdtempSync(path.join(root, `${name}-`));
  const stateDir = path.join(dir, 'state');
  const outDir = path.join(dir, 'out');
  const envFile = path.join(dir, 'agent.env');
  fs.writeFileSync(envFile, `aliyun_logs_${LOGSTORE}_tags=audit=webhook\naliyun_logs_${LOGSTORE}_product=k8s-audit\n`);
  const port = await freePort();
  return {
    dir,
    stateDir,
    outDir,
    port,
    reader: () => new SinkReader(outDir, LOGSTORE),
    async start(extra = []) {
      const args = ['--env-file', envFile, '--state-dir', stateDir, '--sink', `file:${outDir}`, '--listen', 'off', '--log-level', 'info', '--batch-max-wait', '50'];
      const given = new Set(extra.filter((a) => a.startsWith('--')));
      const defaults: string[] = [];
      for (let i = 0; i < args.length; i += 2) if (!given.has(args[i]!)) defaults.push(args[i]!, args[i + 1]!);
      const agent = startAgent({
        args: [...defaults, '--webhook-listen', `127.0.0.1:${port}`, '--webhook-tls-cert', certs.serverCert, '--webhook-tls-key', certs.serverKey, '--webhook-client-ca', certs.ca, ...extra],
        asCommand: true, // the memory bound is checked under the node flags `tailship` ships with
      });
      await waitUntil(() => agent.logs.some((l) => l.msg === 'webhook receiver listening'), () => 'the webhook receiver to listen', { agent });
      return agent;
    },
  };
}

const countKeys = (logs: Array<Record<string, unknown>>): Map<string, number> => {
  const m = new Map<string, number>();
  for (const l of logs) m.set(logKey(l), (m.get(logKey(l)) ?? 0) + 1);
  return m;
};
const exactlyOnce = (want: string[]) => (logs: Array<Record<string, unknown>>): true | string => {
  const got = countKeys(logs);
  const missing = want.filter((k) => !got.has(k));
  const twice = [...got].filter(([, n]) => n > 1);
  if (twice.length > 0) return `duplicated: ${twice.slice(0, 3).map(([k, n]) => `${k} ×${n}`).join(', ')}`;
  return missing.length === 0 ? true : `${missing.length} of ${want.length} missing, e.g. ${missing.slice(0, 3).join(', ')}`;
};

test('the real EventList and large generated ones over HTTPS with a client certificate: every event arrives once', async () => {
  const s = await setup('real');
  const agent = await s.start();
  const want = [DOCS_KEY];
  expect((await post(s.port, DOCS, { certs })).status).toBe(200);
  for (let i = 0; i < 3; i++) {
    const { body, keys } = eventList(`big${i}`, 5000, 1500); // ~9 MB each
    const r = await post(s.port, body, { certs });
    expect(r.status, r.body).toBe(200);
    want.push(...keys);
  }
  expect((await post(s.port, DOCS, { certs })).status).toBe(200); // the API server's retry: a duplicate
  const logs = await waitForLogs(s.reader(), exactlyOnce(want), { agent, timeoutMs: 60_000 });
  const docs = logs.find((l) => logKey(l) === DOCS_KEY)!;
  expect(docs.__tag__).toMatchObject({ audit: 'webhook', __path__: path.join(s.stateDir, 'webhook', 'audit.log') });
  expect(docs.verb).toBe('get');
  // no client certificate: refused at the handshake
  await expect(post(s.port, DOCS, { certs, client: 'none' })).rejects.toThrow();
  await agent.stop();
}, 120_000);

test('SIGKILL right after a 200: after the restart every event of that EventList arrives, once', async () => {
  const s = await setup('kill-after');
  // nothing is shipped before the kill: batches wait long
  let agent = await s.start(['--batch-max-wait', '600000', '--batch-max-events', '100000']);
  const { body, keys } = eventList('acked', 3000);
  expect((await post(s.port, body, { certs })).status).toBe(200);
  agent.kill('SIGKILL');
  await agent.waitExit();
  expect(s.reader().all()).toHaveLength(0);
  agent = await s.start();
  // the API server retries (it may not have seen our 200): still once
  expect(JSON.parse((await post(s.port, body, { certs })).body)).toEqual({ accepted: 0, duplicates: 3000 });
  await waitForLogs(s.reader(), exactlyOnce(keys), { agent, timeoutMs: 60_000 });
  await agent.stop();
}, 120_000);

test('SIGKILL during the POST: the client gets no 200, and nothing of that EventList is shipped', async () => {
  const s = await setup('kill-during');
  let agent = await s.start();
  const { body } = eventList('partial', 2000);
  const sock = tls.connect({ host: '127.0.0.1', port: s.port, ca: fs.readFileSync(certs.ca), cert: fs.readFileSync(certs.clientCert), key: fs.readFileSync(certs.clientKey) });
  await new Promise<void>((r) => sock.once('secureConnect', () => r()));
  let answer = '';
  sock.on('data', (d: Buffer) => (answer += d.toString()));
  sock.on('error', () => undefined);
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  sock.write(`POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
  sock.write(body.subarray(0, body.length - 100)); // all but the end: every item but the last is complete
  await new Promise((r) => setTimeout(r, 500));
  agent.kill('SIGKILL');
  await agent.waitExit();
  await closed;
  expect(answer).toBe('');
  agent = await s.start();
  const { body: next, keys } = eventList('after', 10);
  expect((await post(s.port, next, { certs })).status).toBe(200);
  const logs = await waitForLogs(s.reader(), exactlyOnce(keys), { agent });
  expect(logs.filter((l) => String(l.auditID).startsWith('partial-'))).toHaveLength(0);
  await agent.stop();
}, 120_000);

test('8 clients posting 1,000-event lists for 10 s with a slow store: nothing lost or duplicated, memory bounded', async () => {
  const s = await setup('concurrent');
  store = await startFakeHttpStore();
  store.setFault(() => 'slow:150');
  const agent = await s.start(['--sink', store.url, '--max-inflight-bytes', '4M', '--max-line-bytes', '4M', '--batch-max-bytes', '1M']);
  const rss = new RssSampler(agent.pid, 100);
  const accepted: string[] = [];
  let refused = 0;
  const until = Date.now() + 10_000;
  const client = async (c: number): Promise<void> => {
    for (let n = 0; Date.now() < until; n++) {
      const { body, keys } = eventList(`c${c}-${n}`, 1000);
      for (;;) {
        const r = await post(s.port, body, { certs });
        if (r.status === 200) {
          accepted.push(...keys);
          break;
        }
        expect(r.status, r.body).toBe(429); // the only other answer a healthy receiver gives
        refused++;
        await new Promise((res) => setTimeout(res, 200)); // Retry-After, shortened for the test
      }
    }
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: 8 }, (_, c) => client(c)));
  const secs = (Date.now() - t0) / 1000;
  const want = new Set(accepted);
  expect(want.size).toBe(accepted.length);
  await waitUntil(() => store!.logs().length >= accepted.length, () => `${store!.logs().length} of ${accepted.length} events in the store`, { agent, timeoutMs: 120_000 });
  const got = countKeys(store.logs());
  const missing = accepted.filter((k) => !got.has(k));
  const dups = [...got].filter(([, n]) => n > 1);
  rss.stop();
  console.log(`webhook concurrency: ${accepted.length} events accepted in ${secs.toFixed(1)} s (${Math.round(accepted.length / secs)}/s), ${refused} answers 429, max RSS ${(rss.max / 2 ** 20).toFixed(0)} MiB`);
  expect(missing).toEqual([]);
  expect(dups).toEqual([]);
  expect(got.size).toBe(accepted.length);
  expect(rss.max).toBeLessThan(300 * 2 ** 20);
  await agent.stop();
}, 240_000);

test('the spool rotates, and its backups are deleted once the store acknowledged them; a restart after that is quiet', async () => {
  const s = await setup('rotation');
  // rotation at max(1 MiB, --max-inflight-bytes): 1 MiB here
  const small = ['--max-inflight-bytes', '1M', '--max-line-bytes', '1M', '--batch-max-bytes', '512K'];
  let agent = await s.start(small);
  const spoolDir = path.join(s.stateDir, 'webhook');
  const backups = () => fs.readdirSync(spoolDir).filter((n) => /^audit-.*\.log$/.test(n));
  const seenBackups = new Set<string>();
  const want: string[] = [];
  for (let i = 0; i < 6; i++) {
    const { body, keys } = eventList(`rot${i}`, 1500, 500); // ~1.3 MB each: one rotation per list
    // the spool holds 4 MiB unacknowledged at most here: 429 until the store catches up, as the API server sees it
    for (let tries = 0; ; tries++) {
      const r = await post(s.port, body, { certs });
      if (r.status === 200) break;
      expect(r.status).toBe(429);
      expect(tries).toBeLessThan(100);
      await new Promise((res) => setTimeout(res, 300));
    }
    for (const b of backups()) seenBackups.add(b);
    want.push(...keys);
  }
  expect(seenBackups.size).toBeGreaterThanOrEqual(4);
  await waitForLogs(s.reader(), exactlyOnce(want), { agent, timeoutMs: 60_000 });
  await waitUntil(() => backups().length === 0, () => `backups still there: ${backups().join(', ')}`, { agent, timeoutMs: 40_000 });
  await agent.stop();
  agent = await s.start(small);
  await new Promise((r) => setTimeout(r, 1500));
  expect(agent.warnings().filter((l) => (l.level ?? 0) >= 50), agent.stderrTail()).toEqual([]);
  expect(s.reader().all()).toHaveLength(want.length);
  await agent.stop();
}, 120_000);
