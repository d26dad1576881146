// The bench's loopback HTTP store: accepts tailship's batch bodies (SPEC §3) and Fluent Bit's `Format json`
// arrays, gunzips, and counts every event by auditID + stage against the set the log file holds, so a run
// only counts when nothing is missing. Answers 200 once a body is counted: that is the acknowledgement.
//
// Counting scans the bytes for `"auditID":"` and the `"stage":"` after it instead of JSON.parse-ing every
// body, so that the store costs the 2-core machine little next to the agent it measures; every 64th body
// (every body with `strict`) is also JSON.parse'd and its event count compared.
import http from 'node:http';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import fs from 'node:fs';

const gunzipAsync = promisify(gunzip);
const AUDIT_ID = Buffer.from('"auditID":"');
const STAGE = Buffer.from('"stage":"');
const TIME = Buffer.from('"__time__":');
const QUOTE = 0x22;
const NL = 0x0a;

/** `auditID|stage` of every event in `buf` (lines or a JSON body); the stage is searched after the id. */
export function scanKeys(buf, onKey) {
  let n = 0;
  let pos = buf.indexOf(AUDIT_ID, 0);
  while (pos !== -1) {
    const idStart = pos + AUDIT_ID.length;
    const idEnd = buf.indexOf(QUOTE, idStart);
    const st = buf.indexOf(STAGE, idEnd);
    if (idEnd === -1 || st === -1) throw new Error('event without auditID/stage');
    const stStart = st + STAGE.length;
    const stEnd = buf.indexOf(QUOTE, stStart);
    onKey(`${buf.latin1Slice(idStart, idEnd)}|${buf.latin1Slice(stStart, stEnd)}`);
    n++;
    pos = buf.indexOf(AUDIT_ID, stEnd);
  }
  return n;
}

function countOf(buf, needle) {
  let n = 0;
  for (let p = buf.indexOf(needle); p !== -1; p = buf.indexOf(needle, p + needle.length)) n++;
  return n;
}

/** The keys of every line of an audit log file (read in big chunks, whole lines only). */
export function keysOfFile(file) {
  const keys = new Map();
  const fd = fs.openSync(file, 'r');
  const chunk = Buffer.allocUnsafe(16 << 20);
  let carry = Buffer.alloc(0);
  let pos = 0;
  let dups = 0;
  const add = (k) => {
    if (keys.has(k)) dups++;
    keys.set(k, 0);
  };
  for (;;) {
    const n = fs.readSync(fd, chunk, 0, chunk.length, pos);
    if (n === 0) break;
    pos += n;
    let buf = carry.length ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
    const last = buf.lastIndexOf(NL);
    scanKeys(buf.subarray(0, last + 1), add);
    carry = Buffer.from(buf.subarray(last + 1));
  }
  if (carry.length) scanKeys(carry, add);
  fs.closeSync(fd);
  if (dups) throw new Error(`${file}: ${dups} duplicate auditID+stage keys: the generator must make them unique`);
  return keys;
}

/**
 * Starts the store on 127.0.0.1:0. `expected` is a Map key → 0 (reset between runs with reset()).
 * `done` resolves (with performance.now()) when every expected key has arrived at least once.
 */
export async function startStore({ expected = new Map(), strict = false, sampleEvery = 64, delayMs = 0 } = {}) {
  let state;
  const reset = () => {
    for (const k of expected.keys()) expected.set(k, 0);
    let resolveDone;
    state = {
      distinct: 0,
      events: 0,
      duplicates: 0,
      unexpected: 0,
      bodies: 0,
      wireBytes: 0,
      jsonBytes: 0,
      errors: [],
      firstAt: undefined,
      lastAt: undefined,
      doneAt: undefined,
      done: new Promise((r) => (resolveDone = r)),
      resolveDone,
    };
    if (expected.size === 0) state.doneAt = performance.now();
  };
  reset();

  const count = (k) => {
    const c = expected.get(k);
    if (c === undefined) {
      state.unexpected++;
      if (state.errors.length < 5) state.errors.push(`unexpected event ${k}`);
      return;
    }
    expected.set(k, c + 1);
    if (c === 0) state.distinct++;
    else state.duplicates++;
  };

  const handle = async (req, body) => {
    const s = state;
    s.wireBytes += body.length;
    const json = req.headers['content-encoding'] === 'gzip' ? await gunzipAsync(body) : body;
    s.jsonBytes += json.length;
    s.bodies++;
    const n = scanKeys(json, count);
    s.events += n;
    // tailship's logs each carry one __time__; Fluent Bit's records do not
    if (json[0] === 0x7b) {
      const t = countOf(json, TIME);
      if (t !== n && s.errors.length < 5) s.errors.push(`body with ${n} auditIDs but ${t} __time__ keys`);
    }
    if (strict || s.bodies % sampleEvery === 1) {
      const parsed = JSON.parse(json.toString('utf8'));
      const logs = Array.isArray(parsed) ? parsed : parsed.logs;
      if (!Array.isArray(logs) || logs.length !== n) s.errors.push(`body parsed to ${logs?.length} logs, scan found ${n}`);
    }
    const now = performance.now();
    s.firstAt ??= now;
    s.lastAt = now;
    if (s.doneAt === undefined && s.distinct === expected.size) {
      s.doneAt = now;
      s.resolveDone(now);
    }
  };

  const server = http.createServer((req, res) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => {
      // `delayMs`: a slow store (the agent's in-flight budget fills up, as behind a congested link)
      const counted = handle(req, Buffer.concat(parts));
      (delayMs > 0 ? counted.then(() => new Promise((r) => setTimeout(r, delayMs))) : counted).then(
        () => {
          res.writeHead(200, { 'content-length': '0' });
          res.end();
        },
        (e) => {
          state.errors.push(`bad body: ${e.message}`);
          res.writeHead(400, { 'content-type': 'text/plain' });
          res.end(e.message);
        },
      );
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/ingest`,
    port,
    expected,
    get state() {
      return state;
    },
    reset,
    /** Keys expected but never received (up to `max`). */
    missing(max = 5) {
      const out = [];
      for (const [k, c] of expected) if (c === 0 && out.push(k) >= max) break;
      return out;
    },
    close: () => new Promise((r) => {
      server.closeAllConnections?.();
      server.close(() => r());
    }),
  };
}
