// The bare limits of one Node thread on this machine, for the context rows of the bench table:
//   node bench/limits.mjs read  FILE          read the file in 1 MiB chunks (page cache)
//   node bench/limits.mjs parse FILE          read + split lines + JSON.parse every line
//   node bench/limits.mjs gzip  FILE LEVEL    read + gzip in 3 MiB pieces (the batch size) at LEVEL, one thread
// Prints one JSON line: {bytes, lines, seconds, cpuSeconds} measured inside the process (no startup).
import fs from 'node:fs';
import { gzipSync } from 'node:zlib';

const [mode, file, levelArg] = process.argv.slice(2);

/** VmHWM of this process image: getrusage's maxrss would keep the high-water mark of the (big) parent it was
 *  forked from across exec. */
function peakRss() {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
}
const CHUNK = mode === 'gzip' ? 3 << 20 : 1 << 20;
const buf = Buffer.allocUnsafe(CHUNK);
const fd = fs.openSync(file, 'r');
const level = Number(levelArg ?? 3);

const t0 = performance.now();
const c0 = process.cpuUsage();
let bytes = 0;
let lines = 0;
let out = 0;
let carry = '';
for (let pos = 0; ; ) {
  const n = fs.readSync(fd, buf, 0, CHUNK, pos);
  if (n === 0) break;
  pos += n;
  bytes += n;
  if (mode === 'parse') {
    let start = 0;
    for (let nl = buf.indexOf(10, 0); nl !== -1 && nl < n; nl = buf.indexOf(10, start)) {
      const text = start === 0 && carry ? carry + buf.toString('utf8', 0, nl) : buf.toString('utf8', start, nl);
      carry = '';
      JSON.parse(text);
      lines++;
      start = nl + 1;
    }
    if (start < n) carry += buf.toString('utf8', start, n);
  } else if (mode === 'gzip') {
    out += gzipSync(buf.subarray(0, n), { level }).length;
  } else if (mode !== 'read') {
    throw new Error(`unknown mode ${mode}: read | parse | gzip`);
  }
}
const c = process.cpuUsage(c0);
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(`${JSON.stringify({ mode, level: mode === 'gzip' ? level : undefined, bytes, lines, compressed: out || undefined, seconds, cpuSeconds: (c.user + c.system) / 1e6, maxRssBytes: peakRss() })}\n`);
