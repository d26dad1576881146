// Equivalence check for the byte writers of the sinks (performance rewrites must not change a byte):
// every line of a generated audit log, plus edge cases, rendered both ways, batch by batch.
//   node bench/check-render.mjs [FILE]
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ensureAuditLog, parseSize } from './generate.mjs';

const dist = (p) => new URL(`../dist/${p}`, import.meta.url).href;
const { httpBatchBody, httpBatchBodyBytes } = await import(dist('deliver/sinks/http-batch-body.js'));
const { batchNdjson, batchNdjsonBytes } = await import(dist('deliver/ndjson.js'));
const { parseLine } = await import(dist('parse/parse-line.js'));

const file = process.argv[2] ?? ensureAuditLog(parseSize('20M'), 1).file;
const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
const edge = ['{}', '{ }', '  {}', '{"a":1}  ', '{"a":1 \t}', '{"__time__":9,"a":1}', '{"x":"__tag__"}', '{"__tag__":{"a":1}}', 'not json', '[1,2]', 'null', '"str"', '{"a":"ü€😀"}', '{"a":"\\ud800"}', 'x\u2028y', '{"a":1}\r', '{"a":{"b":[1,2,{"c":null}]}}  \t'];
const events = [...edge.map((t) => parseLine(t, false, true, 1_700_000_000_123)), ...edge.map((t) => parseLine(t, true, true, 1)), ...edge.map((t) => parseLine(t, false, false, 2)), ...lines.map((t) => parseLine(t, false, true, 0))];
let checked = 0;
for (let i = 0; i < events.length; i += 37) {
  const evs = events.slice(i, i + 37);
  const batch = { id: 'b', inputKey: 'k', logstore: 'audit-x', project: i % 2 ? 'p' : undefined, product: 'k8s-audit', source: 'node-1', tags: { audit: 'apiserver', __hostname__: 'node-1', __path__: '/var/log/a' }, events: evs, rawBytes: evs.reduce((s, e) => s + Buffer.byteLength(e.raw), 0), range: { stream: 's', start: 0, end: 1 }, shard: 2, ttl: 90, logstoreMode: 'standard' };
  if (!Buffer.from(httpBatchBody(batch)).equals(httpBatchBodyBytes(batch))) throw new Error(`http body differs at batch ${i}`);
  if (!Buffer.from(batchNdjson(batch)).equals(batchNdjsonBytes(batch))) throw new Error(`ndjson differs at batch ${i}`);
  // a batch whose rawBytes under-estimates (the writer must grow)
  const tiny = { ...batch, rawBytes: 0 };
  if (!Buffer.from(httpBatchBody(tiny)).equals(httpBatchBodyBytes(tiny))) throw new Error(`http body differs (growth) at batch ${i}`);
  if (!Buffer.from(batchNdjson(tiny)).equals(batchNdjsonBytes(tiny))) throw new Error(`ndjson differs (growth) at batch ${i}`);
  checked += evs.length;
}
console.log(`render check: ${checked} events, byte-identical`);

// renderLog against the original implementation (before the performance changes), on the same events plus
// strings that come close to the reserved keys.
const { renderLog } = await import(dist('deliver/render.js'));
function referenceRenderLog(event, tagJson) {
  const tail = tagJson === undefined ? `"__time__":${event.time}}` : `"__time__":${event.time},"__tag__":${tagJson}}`;
  if (!event.isObject) return `{"content":${JSON.stringify(event.raw)},${tail}`;
  const raw = event.raw;
  if (raw.includes('"__time__"') || raw.includes('"__tag__"')) {
    const obj = JSON.parse(raw);
    delete obj.__time__;
    delete obj.__tag__;
    const text = JSON.stringify(obj);
    return text === '{}' ? `{${tail}` : `${text.slice(0, -1)},${tail}`;
  }
  const close = raw.lastIndexOf('}');
  const body = raw.slice(0, close).trimEnd();
  return body.endsWith("{") ? `${body}${tail}` : `${body},${tail}`; // the reference with the empty-object fix (leading whitespace)
}
const near = ['{"a":"x__time__"}', '{"__time__x":1}', '{"a":"___time__\\""}', '{"a":"__tag__\\""}', '{"b":"\\"__tag__\\""}', '{"__":1,"___time__":2}', '{"a":"__time__","__tag__":3}', '{"x":{"__time__":1}}', '{"__time":1,"_tag__":2}', '{"___":"__"}'];
let n = 0;
for (const e of [...events, ...near.map((t) => parseLine(t, false, true, 5))]) {
  for (const tag of [undefined, '{"a":"b"}']) {
    if (renderLog(e, tag) !== referenceRenderLog(e, tag)) throw new Error(`renderLog differs for ${e.raw.slice(0, 80)}`);
    n++;
  }
}
console.log(`renderLog check: ${n} renders identical to the original`);
