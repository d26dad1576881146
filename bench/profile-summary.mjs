// Top self-time frames of a V8 .cpuprofile (node --cpu-prof), as a markdown table.
//   node bench/profile-summary.mjs FILE [N]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function summarizeProfile(file, top = 20) {
  const p = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    total += dt;
    const n = byId.get(p.samples[i]);
    const cf = n.callFrame;
    const where = cf.url ? `${cf.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/').replace(/^node:/, 'node:')}:${cf.lineNumber + 1}` : '';
    const key = `${cf.functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  const lines = [`total sampled ${(total / 1e6).toFixed(2)} s (main thread only; gzip on the libuv pool is not in it)`, '', '| self % | self s | frame |', '|---:|---:|---|'];
  for (const [k, v] of rows) lines.push(`| ${((100 * v) / total).toFixed(1)} | ${(v / 1e6).toFixed(2)} | \`${k}\` |`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  console.log(summarizeProfile(process.argv[2], Number(process.argv[3] ?? 20)));
}
