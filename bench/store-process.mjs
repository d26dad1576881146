// The bench's HTTP store in a process of its own (started by run.mjs through fork): its CPU and its GC do not
// depend on what the bench process did before (an idle bench process shrinks its heap, and a store in it then
// cost twice the CPU, slowing the agent it measures on these 2 cores). Talks to run.mjs over IPC:
//   → {id, op: 'reset' | 'state' | 'verify-files', dir?}   ← {id, ...answer};   ← {op: 'done', hr} when complete
import fs from 'node:fs';
import path from 'node:path';
import { keysOfFile, scanKeys, startStore } from './http-store.mjs';

const [file, strict, delay, keysFile] = process.argv.slice(2);
/** With an audit policy (run.mjs --agent-args "--audit-policy …"), the keys it keeps, one `auditID|stage` a line. */
const keysOfList = (f) => new Map(fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((k) => [k, 0]));
const store = await startStore({ expected: keysFile ? keysOfList(keysFile) : keysOfFile(file), strict: strict === 'strict', delayMs: Number(delay || 0) });

function snapshot() {
  const s = store.state;
  const c = process.cpuUsage();
  return {
    expected: store.expected.size,
    distinct: s.distinct,
    events: s.events,
    duplicates: s.duplicates,
    unexpected: s.unexpected,
    errors: s.errors,
    wireBytes: s.wireBytes,
    jsonBytes: s.jsonBytes,
    missing: store.missing(),
    cpu: (c.user + c.system) / 1e6,
  };
}

/** Counts the keys of every `*.ndjson` of a file sink's directory (read in pieces: as big as the input). */
function verifyFiles(dir) {
  store.reset();
  const expected = store.expected;
  const s = store.state;
  let lines = 0;
  let bytes = 0;
  const count = (k) => {
    const c = expected.get(k);
    if (c === undefined) s.unexpected++;
    else {
      expected.set(k, c + 1);
      if (c === 0) s.distinct++;
      else s.duplicates++;
    }
  };
  const names = fs.existsSync(dir) ? fs.readdirSync(dir) : []; // no directory: nothing was written
  for (const f of names.filter((n) => n.endsWith('.ndjson'))) {
    const fd = fs.openSync(path.join(dir, f), 'r');
    const chunk = Buffer.allocUnsafe(16 << 20);
    let carry = Buffer.alloc(0);
    for (let pos = 0; ; ) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, pos);
      if (n === 0) break;
      pos += n;
      bytes += n;
      const buf = carry.length ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      const last = buf.lastIndexOf(10);
      const whole = buf.subarray(0, last + 1);
      for (let p = whole.indexOf(10); p !== -1; p = whole.indexOf(10, p + 1)) lines++;
      s.events += scanKeys(whole, count);
      carry = Buffer.from(buf.subarray(last + 1));
    }
    fs.closeSync(fd);
  }
  return { ...snapshot(), lines, outBytes: bytes };
}

process.on('message', (m) => {
  if (m.op === 'reset') {
    store.reset();
    store.state.done.then(() => process.send({ op: 'done', run: m.run, hr: process.hrtime.bigint().toString() }));
    process.send({ id: m.id });
  } else if (m.op === 'state') process.send({ id: m.id, ...snapshot() });
  else if (m.op === 'verify-files') process.send({ id: m.id, ...verifyFiles(m.dir) });
  else if (m.op === 'close') store.close().then(() => process.exit(0));
});
process.send({ op: 'ready', url: store.url, port: store.port, expected: store.expected.size });
// the bench ended (or died): nothing to serve any more
process.on('disconnect', () => process.exit(0));
