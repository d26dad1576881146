// How fast this machine is right now, on two fixed single-thread workloads, printed with every bench run: the VMs
// these figures come from drift by 10-20 % within a day (bench/README.md), so a run is compared with another
// through these, not through the clock. Same input whatever build is measured (JSON.parse, not tailship's scan).
import fs from 'node:fs';
import { gzipSync } from 'node:zlib';
import { ensureAuditLog } from './generate.mjs';

const SAMPLE_BYTES = 3 << 20;
const ROUNDS = 9;

/** MB/s of gzip level 3 over 3 MiB of the generated log, and of JSON.parse over its lines (medians of 9). */
export function calibrate() {
  const { file } = ensureAuditLog(20 << 20, 1);
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(SAMPLE_BYTES);
  const n = fs.readSync(fd, buf, 0, SAMPLE_BYTES, 0);
  fs.closeSync(fd);
  const body = buf.subarray(0, buf.lastIndexOf(10, n - 1) + 1);
  const lines = body.toString('utf8').split('\n').filter(Boolean);
  const mbs = (work) => {
    work(); // warm: the first round compiles and faults pages in
    const times = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = process.hrtime.bigint();
      work();
      times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    times.sort((a, b) => a - b);
    return +(body.length / 1e6 / times[ROUNDS >> 1]).toFixed(0);
  };
  return {
    gzip3MBs: mbs(() => gzipSync(body, { level: 3 })),
    jsonParseMBs: mbs(() => {
      for (const l of lines) JSON.parse(l);
    }),
  };
}
