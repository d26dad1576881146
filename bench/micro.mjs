// Micro-benchmarks of the hot functions on the generated audit log (for before/after of an optimisation):
//   node bench/micro.mjs [--size 50M] [--what body,ndjson,parse,gzip,frame,stages]
// Each case runs its old and new form alternately, several rounds, and prints the median ms per 100 MB.
import fs from 'node:fs';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { ensureAuditLog, parseSize } from './generate.mjs';

const argv = process.argv.slice(2);
const opt = (n, d) => (argv.indexOf(n) >= 0 ? argv[argv.indexOf(n) + 1] : d);
const WHAT = opt('--what', 'body,ndjson,parse,gzip').split(',');
const dist = (p) => new URL(`../dist/${p}`, import.meta.url).href;
const { httpBatchBody, httpBatchBodyBytes } = await import(dist('deliver/sinks/http-batch-body.js'));
const { batchNdjson, batchNdjsonBytes } = await import(dist('deliver/ndjson.js'));
const { parseLine } = await import(dist('parse/parse-line.js'));
const { LineFramer } = await import(dist('tail/line-framer.js'));

const { file } = ensureAuditLog(parseSize(opt('--size', '50M')), 1);
const buf = fs.readFileSync(file);
// one flat string per line, as the line framer makes them (split() would make sliced strings, slower to scan)
const lines = [];
for (let p = 0, nl; (nl = buf.indexOf(10, p)) !== -1; p = nl + 1) if (nl > p) lines.push(buf.toString('utf8', p, nl));
const events = lines.map((t) => parseLine(t, false, true, 0));
const batches = [];
for (let i = 0, cur = []; i <= events.length; i++) {
  const e = events[i];
  if (!e || cur.reduce((s, x) => s + x.raw.length, 0) > 3 << 20) {
    batches.push({ id: 'b', inputKey: 'k', logstore: 'audit', product: 'k8s-audit', source: 'node-1', tags: { __hostname__: 'node-1', __path__: '/var/log/kubernetes/kubernetes.audit' }, events: cur, rawBytes: cur.reduce((s, x) => s + x.raw.length + 1, 0), range: { stream: 's', start: 0, end: 1 }, shard: 2, ttl: 90, logstoreMode: 'standard' });
    cur = [];
  }
  if (e) cur.push(e);
}
const MB = buf.length / 1e6;

async function bench(name, variants, rounds = 5) {
  const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [k, fn] of Object.entries(variants)) {
      const c0 = process.cpuUsage();
      await fn();
      const c = process.cpuUsage(c0);
      times[k].push(((c.user + c.system) / 1000) * (100 / MB));
    }
  }
  const med = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`${name}: ${Object.entries(times).map(([k, v]) => `${k} ${med(v).toFixed(0)} CPU-ms/100MB`).join(', ')}`);
}

let sink = 0;
if (WHAT.includes('body')) await bench('http body', { 'string+Buffer.from': () => batches.forEach((b) => (sink += Buffer.from(httpBatchBody(b)).length)), bytes: () => batches.forEach((b) => (sink += httpBatchBodyBytes(b).length)) });
if (WHAT.includes('ndjson')) await bench('ndjson', { 'string+Buffer.from': () => batches.forEach((b) => (sink += Buffer.from(batchNdjson(b)).length)), bytes: () => batches.forEach((b) => (sink += batchNdjsonBytes(b).length)) });
if (WHAT.includes('parse')) await bench('parseLine', { parseLine: () => lines.forEach((t) => (sink += parseLine(t, false, true, 0).time)), 'JSON.parse only (the old core)': () => lines.forEach((t) => (sink += JSON.parse(t) ? 1 : 0)) });
if (WHAT.includes('frame')) {
  await bench('frame', {
    framer: () => {
      const f = new LineFramer(0, 16 << 20);
      for (let off = 0; off < buf.length; off += 1 << 20) f.push(buf.subarray(off, Math.min(buf.length, off + (1 << 20))), off, (l) => (sink += l.end));
    },
  });
}
if (WHAT.includes('gzip')) {
  const bodies = batches.map((b) => httpBatchBodyBytes(b));
  const gz = promisify(gzip);
  const run = (opts) => async () => {
    // 4 at a time, like the deliverer
    for (let i = 0; i < bodies.length; i += 4) sink += (await Promise.all(bodies.slice(i, i + 4).map((b) => gz(b, opts)))).reduce((s, x) => s + x.length, 0);
  };
  // main-thread CPU only is what cpuUsage cannot separate; report wall too
  for (const [k, o] of Object.entries({ 'chunk 16K': { level: 3 }, 'chunk 256K': { level: 3, chunkSize: 256 << 10 } })) {
    const t0 = performance.now();
    const elu0 = performance.eventLoopUtilization();
    await run(o)();
    const elu = performance.eventLoopUtilization(elu0);
    console.log(`gzip ${k}: wall ${((performance.now() - t0) * (100 / MB)).toFixed(0)} ms/100MB, main thread busy ${(elu.active * (100 / MB)).toFixed(0)} ms/100MB`);
  }
}
if (WHAT.includes('stages')) {
  // a line parsed and then passed through the stages, as parse/line-event.ts runs them (the member table is current)
  const { Registry } = await import('prom-client');
  const { createAuditMetricsStage } = await import(dist('audit/audit-metrics.js'));
  const { createIdentityStage } = await import(dist('audit/identity.js'));
  const { createPolicyStage } = await import(dist('audit/policy/policy-stage.js'));
  const metrics = createAuditMetricsStage(new Registry());
  const identity = createIdentityStage('c1');
  const policy = createPolicyStage(new URL('../policies/ack.yaml', import.meta.url).pathname, { metrics: { registry: new Registry() } });
  const ctx = { inputKey: 'k', stream: 's', offset: 0, tags: {} };
  const through = (stages) => () => lines.forEach((t) => {
    let e = parseLine(t, false, true, 0);
    for (const st of stages) if (e) e = st(e, ctx);
    sink += e ? 1 : 0;
  });
  await bench('stages', { parse: through([]), '+metrics': through([metrics]), '+metrics+identity (as shipped)': through([metrics, identity]), '+metrics+ACK policy+identity': through([metrics, policy, identity]) }, 7);
}
if (sink === -1) console.log(sink);
