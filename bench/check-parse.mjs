// Differential check of parseLine (with its validating scan) against the original JSON.parse-only
// implementation: every generated line, the real audit events in shared/data, hand-picked edge cases and
// seeded random mutations must give identical ShipEvents.   node bench/check-parse.mjs [--fuzz 200000]
import fs from 'node:fs';
import path from 'node:path';
import { createRng, ensureAuditLog, parseSize } from './generate.mjs';

const { parseLine } = await import(new URL('../dist/parse/parse-line.js', import.meta.url).href);

// ---- the original implementation (before the scan) --------------------------------------------------------
function refParseLine(text, truncated, json, nowMs) {
  if (truncated) return { raw: text, isObject: false, ...splitTime(nowMs), markers: { __truncated__: 'true' } };
  if (!json) return { raw: text, isObject: false, ...splitTime(nowMs) };
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return invalid(text, nowMs, `invalid JSON: ${e.message}`.slice(0, 200));
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return invalid(text, nowMs, `not a JSON object (${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value})`);
  }
  const t = eventTime(value.stageTimestamp) ?? eventTime(value.requestReceivedTimestamp);
  return { raw: text, isObject: true, ...(t ?? splitTime(nowMs)) };
}
function invalid(text, nowMs, reason) {
  return { raw: text, isObject: false, ...splitTime(nowMs), markers: { __parse_error__: reason } };
}
function splitTime(ms) {
  const time = Math.floor(ms / 1000);
  return { time, timeNs: Math.round((ms - time * 1000) * 1e6) };
}
function eventTime(v) {
  if (typeof v !== 'string') return undefined;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) return undefined;
  const time = Math.floor(ms / 1000);
  const frac = /\.(\d+)/.exec(v);
  return { time, timeNs: frac ? Number((frac[1] + '000000000').slice(0, 9)) : 0 };
}

// ---- inputs ---------------------------------------------------------------------------------------------------
const argv = process.argv.slice(2);
const FUZZ = Number(argv[argv.indexOf('--fuzz') + 1] || 200_000);
const lines = fs.readFileSync(ensureAuditLog(parseSize('20M'), 1).file, 'utf8').split('\n').filter(Boolean);
const shared = path.resolve(new URL('../../shared/data/audit-logs', import.meta.url).pathname);
const real = [];
if (fs.existsSync(shared)) {
  const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : /\.(json|log)$/.test(e.name) && real.push(...fs.readFileSync(path.join(d, e.name), 'utf8').split('\n'))));
  walk(shared);
}
const edge = [
  '', ' ', '{}', '{ }', ' {} ', '{}x', '{} {}', '{,}', '{"a"}', '{"a":}', '{"a":1,}', '{"a":1 "b":2}', '[]', '[1]', 'null', 'true', '1', '"s"', '{"a":[]}', '{"a":[1,]}', '{"a":[,1]}',
  '{"a":01}', '{"a":-0}', '{"a":-}', '{"a":1.}', '{"a":.5}', '{"a":1e}', '{"a":1e+}', '{"a":1E-5}', '{"a":-1.5e10}', '{"a":+1}', '{"a":0x1}', '{"a":Infinity}', '{"a":NaN}', '{"a":tru}', '{"a":nulll}', '{"a":true}',
  '{"a":"\\u12"}', '{"a":"\\u12G4"}', '{"a":"\\uABCD"}', '{"a":"\\x41"}', '{"a":"\\\'"}', '{"a":"\t"}', '{"a":"\\t"}', '{"a":"\u0000"}', '{"a":"\u001f"}', '{"a":"\u007f"}', '{"a":"\ud800"}', '{"a":"ü"}', '{"a":"unterminated}',
  '{"a":1}\u00a0', '\u00a0{"a":1}', '{"a":1}\t\r\n', '\ufeff{"a":1}', '{\u000b"a":1}', '{"a"\n:\r1\t}',
  '{"stageTimestamp":"2019-05-08T12:46:52.812735Z"}', '{"stageTimestamp":5,"requestReceivedTimestamp":"2019-05-08T12:46:50.5Z"}', '{"stageTimestamp":"2019-05-08T12:46:52Z","stageTimestamp":null}',
  '{"stageTimestamp":null,"stageTimestamp":"2019-05-08T12:46:52.1Z"}', '{"stageTimestamp":{"a":"2019-05-08T12:46:52Z"}}', '{"stageTimestamp":["2019-05-08T12:46:52Z"]}', '{"stage\\u0054imestamp":"2019-05-08T12:46:52.3Z"}',
  '{"stageTimestamp":"2019-05-08T12:46:52\\u002e7Z"}', '{"x":{"stageTimestamp":"2019-05-08T12:46:52Z"}}', '{"requestReceivedTimestamp":"garbage"}', '{"stageTimestamp":"","requestReceivedTimestamp":"2020-01-01T00:00:00Z"}',
  '{"stageTimestamp":[],"requestReceivedTimestamp":{}}', '{"stageTimestamp":"2019-05-08T12:46:52Z" , "a" : [ 1 , { } , [ ] ] }', '[' .repeat(5000) + ']'.repeat(5000), `{"a":${'['.repeat(20000)}${']'.repeat(20000)}}`, `{"a":${'['.repeat(200)}${']'.repeat(199)}}`,
];

const rng = createRng(42);
const alphabet = ['{', '}', '[', ']', ',', ':', '"', '\\', ' ', '\t', '\n', '0', '1', '-', '.', 'e', 'E', '+', 'u', 'a', 't', 'n', 'f', '\u0001', 'x'];
function mutate(t) {
  let s = t;
  for (let k = rng.int(1, 3); k > 0; k--) {
    const p = rng.int(0, s.length);
    const op = rng.int(0, 2);
    if (op === 0) s = s.slice(0, p) + s.slice(p + 1);
    else if (op === 1) s = s.slice(0, p) + rng.pick(alphabet) + s.slice(p);
    else s = s.slice(0, p) + rng.pick(alphabet) + s.slice(p + 1);
  }
  return s;
}
function randomJson(depth) {
  const r = rng.int(0, depth > 3 ? 4 : 6);
  const ws = () => rng.pick(['', '', '', ' ', '\t', '\r\n ']);
  switch (r) {
    case 0: return rng.pick(['0', '-0', '1.5', '-2e10', '3E+2', '12345678901234567890', '0.000001', '1e-7']);
    case 1: return rng.pick(['true', 'false', 'null']);
    case 2: return JSON.stringify(rng.pick(['', 'a', '2019-05-08T12:46:52.812735Z', 'x"y', 'tab\tnl\n', 'ü€', '\u0001', '\\']));
    case 3: return rng.pick(['"\\u0041"', '"\\/"', '"\\b\\f\\n\\r\\t"']);
    case 4: return `${ws()}${rng.pick(['"2021-01-01T00:00:00Z"', '7', 'null', '{}', '[]'])}${ws()}`;
    case 5: return `[${ws()}${Array.from({ length: rng.int(0, 3) }, () => randomJson(depth + 1)).join(`${ws()},${ws()}`)}${ws()}]`;
    default: return `{${ws()}${Array.from({ length: rng.int(0, 4) }, () => `${JSON.stringify(rng.pick(['a', 'stageTimestamp', 'requestReceivedTimestamp', 'kind', '']))}${ws()}:${ws()}${randomJson(depth + 1)}`).join(`${ws()},${ws()}`)}${ws()}}`;
  }
}

let n = 0;
let valid = 0;
const check = (t) => {
  const now = 1_700_000_000_123;
  const a = JSON.stringify(parseLine(t, false, true, now));
  const b = JSON.stringify(refParseLine(t, false, true, now));
  if (a !== b) throw new Error(`parseLine differs for ${JSON.stringify(t.slice(0, 200))}:\n new ${a.slice(0, 300)}\n ref ${b.slice(0, 300)}`);
  n++;
  if (!JSON.parse(a).markers) valid++;
};
for (const t of [...edge, ...real, ...lines]) check(t);
const short = lines.filter((l) => l.length < 3000);
for (let k = 0; k < FUZZ; k++) {
  const base = k % 2 ? randomJson(0) : rng.pick(short);
  check(k % 3 === 0 ? base : mutate(base));
  if (k % 5 === 0) check(`{"a":${randomJson(1)},"stageTimestamp":${randomJson(2)}}`);
}
console.log(`parse check: ${n} lines (${valid} valid objects), identical to the original parseLine`);

// eventTime against the original (Date.parse + regex) on timestamps near the API server's format.
const { eventTime: newEventTime } = await import(new URL('../dist/parse/parse-line.js', import.meta.url).href);
const pad = (x, w) => String(x).padStart(w, '0');
let times = 0;
const stamps = ['2019-05-08T12:46:52.812735Z', '2019-05-08T12:46:52Z', '2019-05-08T12:46:52.Z', '2019-05-08T12:46:52.1234567891Z', '2019-05-08 12:46:52Z', '2019-05-08T12:46:52.5+01:00', '2019-05-08T12:46:52', '1969-12-31T23:59:59.9Z', '0050-01-01T00:00:00Z', '2019-01-01T24:00:00Z', '2019-01-01T23:59:60Z', '2019-02-29T00:00:00Z', '2020-02-30T00:00:00Z', '2019-04-31T12:00:00.000001Z', '2019-00-10T00:00:00Z', '2019-13-10T00:00:00Z', '2019-05-00T00:00:00Z', '2019-05-32T00:00:00Z', '+002019-05-08T12:46:52Z', '2019-05-08T12:46:52.12a4Z', '2019-05-08T1a:46:52Z', '2019-05-08T12:-6:52Z', '2019-05-08T12:46:-2Z', '9999-12-31T23:59:59.999999999Z', ''];
for (let k = 0; k < 300_000; k++) {
  const y = rng.int(0, 3) === 0 ? rng.int(0, 9999) : rng.int(1968, 2100);
  let s = `${pad(y, 4)}-${pad(rng.int(0, 13), 2)}-${pad(rng.int(0, 32), 2)}T${pad(rng.int(0, 25), 2)}:${pad(rng.int(0, 60), 2)}:${pad(rng.int(0, 61), 2)}`;
  const f = rng.int(0, 11);
  if (f > 0) s += `.${String(rng.u32()).padStart(10, '0').slice(0, f)}`;
  s += rng.int(0, 20) === 0 ? rng.pick(['', '+00:00', 'z', ' Z']) : 'Z';
  stamps.push(k % 7 === 0 ? mutate(s) : s);
}
for (const s of stamps) {
  const a = JSON.stringify(newEventTime(s));
  const b = JSON.stringify(eventTime(s));
  if (a !== b) throw new Error(`eventTime differs for ${JSON.stringify(s)}: new ${a} ref ${b}`);
  times++;
}
console.log(`eventTime check: ${times} timestamps identical to Date.parse + regex`);

// Linear time whatever the escapes: long strings full of \n, \\, \" and \u escapes (config maps, last-applied
// annotations) must cost about what JSON.parse costs, not the square of their length.
for (const unit of ['key: value\n', 'C:\\dir\\', 'say "hi" ', 'caf\u00e9 \u2028', '\t\b\f\r/']) {
  const line = JSON.stringify({ kind: 'Event', stageTimestamp: '2026-11-20T07:00:00.000001Z', requestObject: { data: { 'a.yaml': unit.repeat(200_000) } } });
  let t0 = performance.now();
  check(line);
  const ours = performance.now() - t0;
  t0 = performance.now();
  JSON.parse(line);
  const native = performance.now() - t0;
  if (ours > 200 + 50 * native) throw new Error(`parseLine took ${ours.toFixed(0)} ms on a ${(line.length / 1e6).toFixed(1)} MB line of ${JSON.stringify(unit)} (JSON.parse ${native.toFixed(0)} ms): not linear`);
}
console.log('escape-heavy lines: linear');
