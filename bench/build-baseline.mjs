// Builds today's src/ with the hot-path files taken from an older commit, into bench/out/dist-<commit>/, so
// that an optimisation can be measured against what it replaced on the same machine in the same hour:
//   node bench/build-baseline.mjs a4764aa && BENCH_CLI=bench/out/dist-a4764aa/cli.js npm run bench -- --only http
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const commit = process.argv[2];
if (!commit) throw new Error('usage: node bench/build-baseline.mjs COMMIT [FILE...]');
const files = process.argv.slice(3).length
  ? process.argv.slice(3)
  : ['src/tail/line-framer.ts', 'src/parse/parse-line.ts', 'src/deliver/render.ts', 'src/deliver/sinks/file-sink.ts', 'src/deliver/sinks/http-sink.ts'];
const work = path.join(ROOT, 'bench', 'out', `src-${commit}`);
const out = path.join(ROOT, 'bench', 'out', `dist-${commit}`);
fs.rmSync(work, { recursive: true, force: true });
fs.cpSync(path.join(ROOT, 'src'), work, { recursive: true });
for (const f of files) {
  const text = execFileSync('git', ['-C', ROOT, 'show', `${commit}:${f}`], { encoding: 'utf8' });
  fs.writeFileSync(path.join(work, path.relative('src', f)), text);
}
const tsconfig = path.join(ROOT, 'bench', 'out', `tsconfig-${commit}.json`);
fs.writeFileSync(tsconfig, JSON.stringify({ extends: '../../tsconfig.json', compilerOptions: { rootDir: work, outDir: out }, include: [`${work}/**/*.ts`] }));
execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig], { stdio: 'inherit' });
console.log(path.join(out, 'cli.js'));
