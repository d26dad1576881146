// Measures the hand-written LogGroup writer against protobufjs on real audit events, and the compressors.
// Run after a build: `npx tsc -p . && node test/unit/sls/encode-bench.mjs` (not a test: prints numbers only).
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { parseContents, scanContents } from '../../../dist/deliver/sinks/sls/contents.js';
import { encodeLogGroup, toSlsLog } from '../../../dist/deliver/sinks/sls/log-group.js';
import { lz4CompressBlock } from '../../../dist/deliver/sinks/sls/lz4.js';

const fixtures = new URL('../../fixtures/sls/', import.meta.url);
const lines = ['apisnoop-example-user-agent.log', 'cks-prep-p.auster.ndjson', 'falco-k8s_audit.ndjson']
  .flatMap((f) => readFileSync(new URL(f, fixtures), 'utf8').split('\n'))
  .map((l) => l.replace(/\r$/, ''))
  .filter((l) => l.startsWith('{'));
// A batch of about 3 MiB (the default --batch-max-bytes), made of the real events repeated.
const events = [];
let bytes = 0;
while (bytes < 3 * 1024 * 1024) {
  for (const raw of lines) {
    events.push({ raw, isObject: true, time: 1700000000, timeNs: 123456789 });
    bytes += raw.length + 1;
  }
}
const meta = { source: '10.0.0.7', tags: [['audit', 'apiserver'], ['__hostname__', 'node-1'], ['__path__', '/var/log/kubernetes/kubernetes.audit'], ['__pack_id__', '0123456789ABCDEF-1']] };
const LogGroup = new protobuf.Root()
  .loadSync(new URL('sls_logs.proto', fixtures).pathname, { keepCase: true })
  .lookupType('sls_logs.LogGroup');

function time(name, fn, rounds = 15) {
  for (let i = 0; i < 3; i++) fn();
  const t = [];
  let out;
  for (let i = 0; i < rounds; i++) {
    const s = process.hrtime.bigint();
    out = fn();
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  t.sort((a, b) => a - b);
  const ms = t[Math.floor(t.length / 2)];
  console.log(`${name.padEnd(52)} ${ms.toFixed(1).padStart(7)} ms  ${(bytes / 1048576 / (ms / 1000)).toFixed(0).padStart(5)} MB/s of raw lines`);
  return out;
}

console.log(`${events.length} events, ${(bytes / 1048576).toFixed(2)} MiB raw (${lines.length} distinct real audit events)`);
time('contents: JSON.parse + JSON.stringify nested', () => events.map((e) => parseContents(e.raw)));
time('contents: top-level scanner (slices nested)', () => events.map((e) => scanContents(e.raw)));
const logs = time('prepare: toSlsLog (scanner + byte lengths)', () => events.map(toSlsLog));
const mine = time('encode: hand-written writer (one exact Buffer)', () => encodeLogGroup(logs, 0, logs.length, meta));
const objs = time('protobufjs: build message objects', () => ({
  Logs: logs.map((l) => {
    const Contents = [];
    for (let i = 0; i < l.kv.length; i += 2) Contents.push({ Key: l.kv[i], Value: l.kv[i + 1] });
    return { Time: l.time, Contents, Time_ns: l.timeNs };
  }),
  Source: meta.source,
  LogTags: meta.tags.map(([Key, Value]) => ({ Key, Value })),
}));
const theirs = time('protobufjs: LogGroup.encode(obj).finish()', () => LogGroup.encode(objs).finish());
console.log(`same bytes: ${Buffer.compare(mine, Buffer.from(theirs)) === 0} (${mine.length} bytes)`);
const lz = time('lz4CompressBlock (lz4js + end-of-block fix)', () => lz4CompressBlock(mine), 7);
const df = time('zlib deflateSync (level 6)', () => deflateSync(mine), 7);
console.log(`lz4 ${(lz.length / mine.length * 100).toFixed(1)} % of raw, deflate ${(df.length / mine.length * 100).toFixed(1)} %`);
