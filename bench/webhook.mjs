#!/usr/bin/env node
// Webhook receiver benchmark (issue 13): N clients POST 1,000-event audit EventLists over HTTPS with a client
// certificate to `tailship run --webhook-listen` for D seconds, while the HTTP store acknowledges each batch late.
// Prints events/s accepted (answered 200), 429s, the agent's peak RSS, and checks that the store got every
// accepted event exactly once.
//
//   node bench/webhook.mjs [--seconds 30] [--clients 8] [--events 1000] [--store-delay 200] [--pad 600]
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const SECONDS = arg('seconds', 30);
const CLIENTS = arg('clients', 8);
const EVENTS = arg('events', 1000);
const STORE_DELAY = arg('store-delay', 200);
const PAD = arg('pad', 600);

if (!fs.existsSync(path.join(ROOT, 'dist/cli.js'))) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tailship-bench-webhook-'));
const ossl = (...a) => execFileSync('openssl', a, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=ca');
for (const [name, usage, san] of [['server', 'serverAuth', 'IP:127.0.0.1'], ['client', 'clientAuth']]) {
  ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  fs.writeFileSync(path.join(dir, `${name}.ext`), `extendedKeyUsage=${usage}\n${san ? `subjectAltName=${san}\n` : ''}`);
  ossl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
}

// ---- the slow store: counts auditIDs by byte search, acknowledges after STORE_DELAY ms --------------------------
const seen = new Map();
let stored = 0;
const store = http.createServer((req, res) => {
  const parts = [];
  req.on('data', (d) => parts.push(d));
  req.on('end', () => {
    let body = Buffer.concat(parts);
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
    const needle = Buffer.from('"auditID":"');
    for (let p = body.indexOf(needle); p !== -1; p = body.indexOf(needle, p + 1)) {
      const s = p + needle.length;
      const id = body.latin1Slice(s, body.indexOf(0x22, s));
      seen.set(id, (seen.get(id) ?? 0) + 1);
      stored++;
    }
    setTimeout(() => res.end('{"ok":true}'), STORE_DELAY);
  });
});
await new Promise((r) => store.listen(0, '127.0.0.1', r));
const storePort = store.address().port;

// ---- the agent, as the `tailship` command runs it (bin/tailship: its node flags and malloc settings) -----------
const port = await new Promise((r) => {
  const s = http.createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => r(p));
  });
});
const agent = spawn(
  path.join(ROOT, 'bin', 'tailship'),
  ['run', '--state-dir', path.join(dir, 'state'), '--sink', `http://127.0.0.1:${storePort}/ingest`, '--listen', 'off', '--log-level', 'warn',
    '--webhook-listen', `127.0.0.1:${port}`, '--webhook-tls-cert', path.join(dir, 'server.crt'), '--webhook-tls-key', path.join(dir, 'server.key'), '--webhook-client-ca', path.join(dir, 'ca.crt')],
  { stdio: ['ignore', 'inherit', 'inherit'], env: { PATH: process.env.PATH, NODE_NAME: 'bench' } },
);
const hwm = () => {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${agent.pid}/status`, 'utf8'))[1]) * 1024;
  } catch {
    return 0;
  }
};

const ca = fs.readFileSync(path.join(dir, 'ca.crt'));
const cert = fs.readFileSync(path.join(dir, 'client.crt'));
const key = fs.readFileSync(path.join(dir, 'client.key'));
const keepAlive = new https.Agent({ keepAlive: true, ca, cert, key, maxSockets: CLIENTS });
const post = (body) =>
  new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent: keepAlive, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(body);
  });
for (let i = 0; ; i++) {
  try {
    await post(Buffer.from('{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[]}'));
    break;
  } catch {
    if (i > 100) throw new Error('the agent does not listen');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const pad = 'x'.repeat(PAD);
const list = (prefix) => {
  const items = [];
  for (let i = 0; i < EVENTS; i++) {
    items.push(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"${prefix}-${i}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods/p${i}","verb":"get","user":{"username":"system:serviceaccount:kube-system:x","groups":["system:authenticated"]},"sourceIPs":["10.0.0.1"],"objectRef":{"resource":"pods","namespace":"default","name":"p${i}","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-12-01T10:00:00.000000Z","stageTimestamp":"2026-12-01T10:00:00.001000Z","annotations":{"pad":"${pad}"}}`);
  }
  return Buffer.from(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[${items.join(',')}]}`);
};

let accepted = 0;
let refused = 0;
let bytes = 0;
const t0 = Date.now();
const until = t0 + SECONDS * 1000;
await Promise.all(
  Array.from({ length: CLIENTS }, async (_, c) => {
    for (let n = 0; Date.now() < until; n++) {
      const body = list(`c${c}-${n}`);
      for (;;) {
        const status = await post(body);
        if (status === 200) {
          accepted += EVENTS;
          bytes += body.length;
          break;
        }
        if (status !== 429) throw new Error(`unexpected answer ${status}`);
        refused++;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }),
);
const secs = (Date.now() - t0) / 1000;
const peakDuring = hwm();
const drainStart = Date.now();
while (seen.size < accepted && Date.now() - drainStart < 300_000) await new Promise((r) => setTimeout(r, 200));
const dups = [...seen.values()].filter((n) => n > 1).length;
console.log(
  JSON.stringify(
    {
      clients: CLIENTS,
      eventsPerList: EVENTS,
      storeDelayMs: STORE_DELAY,
      seconds: Number(secs.toFixed(1)),
      eventsAccepted: accepted,
      eventsPerSecond: Math.round(accepted / secs),
      mbPerSecond: Number((bytes / secs / 2 ** 20).toFixed(1)),
      answers429: refused,
      storeHasAll: seen.size === accepted,
      duplicates: dups,
      drainSeconds: Number(((Date.now() - drainStart) / 1000).toFixed(1)),
      agentPeakRssMiB: Math.round(Math.max(peakDuring, hwm()) / 2 ** 20),
    },
    null,
    2,
  ),
);
agent.kill('SIGTERM');
await new Promise((r) => agent.once('exit', r));
keepAlive.destroy();
store.close();
fs.rmSync(dir, { recursive: true, force: true });
process.exit(seen.size === accepted && dups === 0 ? 0 : 1);
