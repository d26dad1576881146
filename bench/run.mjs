// tailship benchmark (issue 6). `npm run bench -- [--size 1G] [--runs 3] [--only http,http-plain,file,limits,fluent-bit]
//                                              [--steady] [--steady-seconds 60] [--profile http|http-plain|file]
//                                              [--idle] [--idle-events 1000] [--idle-seconds 60]
//                                              [--store-delay MS: the store answers each batch MS later]
//                                              [--launch node|command: `node dist/cli.js` with no node flags, or
//                                               the `tailship` command (bin/tailship); default: node + its flags]`
// See bench/README.md for what each row means and the latest figures.
import { execFileSync, fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { calibrate } from './calibrate.mjs';
import { createAuditStream, ensureAuditLog, parseSize } from './generate.mjs';
import { startStore } from './http-store.mjs';
import { summarizeProfile } from './profile-summary.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH = path.join(ROOT, 'bench');
const OUT = path.join(BENCH, 'out');
/** BENCH_CLI=path/to/cli.js measures another build (experiments on a copy of dist/). */
const CLI = process.env.BENCH_CLI ? path.resolve(process.env.BENCH_CLI) : path.join(ROOT, 'dist', 'cli.js');
/** The `tailship` command; always this checkout's (with BENCH_CLI, `--launch command` still runs dist/cli.js). */
const LAUNCHER = path.join(ROOT, 'bin', 'tailship');
const TIME = '/usr/bin/time';
const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux; /proc stat times are in these ticks

// ---- arguments ----------------------------------------------------------------------------------------------
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
};
const SIZE = parseSize(opt('--size', '1G'));
const RUNS = Math.max(1, Number(opt('--runs', '3')));
const SEED = Number(opt('--seed', '1'));
const ONLY = opt('--only', 'limits,http,http-plain,file,fluent-bit').split(',');
const STRICT = flag('--strict');
const KEEP = flag('--keep');
const PROFILE = opt('--profile', undefined);
/** Extra tailship flags and node flags for every tailship run (experiments: `--agent-args "--max-inflight-bytes 16M"`). */
const AGENT_ARGS = (opt('--agent-args', '') || '').split(' ').filter(Boolean);
/**
 * What the `tailship` command (bin/tailship) sets: the malloc variables it exports (`K="${K:-V}"`) and node's
 * flags (`exec node FLAGS -- …/dist/cli.js`), so that the bench measures what ships; `--node-args` replaces both.
 */
function shippedLaunch() {
  let script = '';
  try {
    script = fs.readFileSync(LAUNCHER, 'utf8');
  } catch {
    // no bin/tailship: nothing set
  }
  const env = Object.fromEntries([...script.matchAll(/\b([A-Z_][A-Z0-9_]*)="\$\{\1:-([^}]*)\}"/g)].map((m) => [m[1], m[2]]));
  const flags = /^exec node (.*?) -- /m.exec(script)?.[1] ?? '';
  return { env, nodeArgs: flags.split(/\s+/).filter((a) => a.startsWith('--')) };
}
/**
 * `--launch node`: `node dist/cli.js` without node flags, as a user may start it (the agent relaunches itself
 * under the node flags: src/launch/heap-bound.ts); GNU time's peak RSS is then the larger of the launched process
 * and its child (wait4), CPU the sum of both. `--launch command`: bin/tailship executed, which execs node.
 */
const LAUNCH = opt('--launch', '');
if (LAUNCH !== '' && LAUNCH !== 'node' && LAUNCH !== 'command') throw new Error(`--launch ${LAUNCH}: give node or command`);
const NODE_ARGS_GIVEN = argv.includes('--node-args') || LAUNCH !== '';
let NODE_ARGS = (opt('--node-args', '') || '').split(' ').filter(Boolean);
/** What the `tailship` command sets in the environment, when tailship is run as shipped (else nothing). */
let SHIPPED_ENV = {};
/** The environment of every tailship run: the command's own settings too when it is run as shipped. */
let AGENT_ENV = process.env;

/**
 * The program and argv that start the agent: node with `nodeArgs` and dist/cli.js with `cliArgs`, or with
 * `--launch command` the `tailship` command with `cliArgs` (it gives node its own flags).
 */
function agentCommand(nodeArgs, cliArgs) {
  return LAUNCH === 'command' ? [LAUNCHER, cliArgs] : [process.execPath, [...nodeArgs, CLI, ...cliArgs]];
}
/** How the agent is started, for the report. */
function launchText() {
  if (LAUNCH === 'command') return `${path.relative(ROOT, LAUNCHER)} (the tailship command)`;
  const setEnv = Object.entries(SHIPPED_ENV).filter(([k]) => process.env[k] === undefined).map(([k, v]) => `${k}=${v} `).join('');
  return `${setEnv}node ${[...NODE_ARGS, path.relative(ROOT, CLI)].join(' ')}`;
}

const log = (m) => process.stderr.write(`${m}\n`);
const hasTime = (() => {
  try {
    execFileSync(TIME, ['-f', '%e', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const onPath = (bin) => (process.env.PATH ?? '').split(':').some((d) => d && fs.existsSync(path.join(d, bin)));

function ensureBuilt() {
  if (!fs.existsSync(CLI)) {
    log('dist/cli.js missing: building with tsc ...');
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', ROOT], { stdio: 'inherit' });
  }
  if (!NODE_ARGS_GIVEN) {
    ({ nodeArgs: NODE_ARGS, env: SHIPPED_ENV } = shippedLaunch());
    AGENT_ENV = { ...SHIPPED_ENV, ...process.env };
  }
}

async function gzipLevelInUse() {
  // http-sink-config.js since the http sink was split by job; http-sink.js in older builds
  for (const f of ['http-sink-config.js', 'http-sink.js']) {
    const p = path.join(ROOT, 'dist', 'deliver', 'sinks', f);
    if (fs.existsSync(p)) {
      const level = (await import(p)).DEFAULT_GZIP_LEVEL;
      if (level !== undefined) return level;
    }
  }
  throw new Error('DEFAULT_GZIP_LEVEL not found in dist/deliver/sinks (run npm run build)');
}

// ---- process measurement ------------------------------------------------------------------------------------

function procStat(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
    // fields after the comm: [11]=utime [12]=stime (0-based from state)
    return { cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK, rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 };
  } catch {
    return undefined;
  }
}

/**
 * Spawns `cmd args` and measures it: wall from spawn, user+sys CPU and peak RSS of the process (through GNU
 * time when present: exact at exit; else /proc sampled every 50 ms until exit). `until` (optional) is a promise
 * of the moment (performance.now()) the work is complete; then the process gets SIGTERM unless it exits itself.
 */
async function measure(cmd, args, { env = process.env, logFile, until, terminateWhenDone = false } = {}) {
  const timeFile = `${logFile}.time`;
  const useTime = hasTime;
  const [file, fullArgs] = useTime ? [TIME, ['-f', '%e %U %S %M', '-o', timeFile, cmd, ...args]] : [cmd, args];
  const errFd = fs.openSync(logFile, 'w');
  const t0 = performance.now();
  const child = spawn(file, fullArgs, { env, stdio: ['ignore', errFd, errFd] });
  fs.closeSync(errFd);
  let last;
  let pid;
  const sampler = setInterval(() => {
    pid ??= useTime ? childPid(child.pid) : child.pid;
    const s = pid && procStat(pid);
    if (s) last = s;
  }, 50);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, at: performance.now() })));
  let doneAt;
  if (until) {
    doneAt = await Promise.race([until, exited.then(() => undefined)]);
    if (doneAt !== undefined && terminateWhenDone) {
      pid ??= useTime ? childPid(child.pid) : child.pid;
      if (pid) process.kill(pid, 'SIGTERM');
    }
  }
  const ex = await exited;
  clearInterval(sampler);
  let cpu = last?.cpu;
  let rss = last?.hwm;
  if (useTime) {
    const [, u, s, m] = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    cpu = u + s;
    rss = m * 1024;
  }
  return { code: ex.code, signal: ex.signal, wall: ((doneAt ?? ex.at) - t0) / 1000, exitWall: (ex.at - t0) / 1000, cpu, rss };
}

/** CPU seconds per thread name of a process (main thread `node`, `libuv-worker`, `V8 DefaultWorke`…). */
function threadCpu(pid) {
  const out = {};
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main thread' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[name] = (out[name] ?? 0) + (Number(f[11]) + Number(f[12])) / CLK_TCK;
    }
  } catch {
    // the process is gone
  }
  return out;
}

/** The first child of `pid` (the program GNU time runs). */
function childPid(pid) {
  try {
    const c = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0];
    return c ? Number(c) : undefined;
  } catch {
    return undefined;
  }
}

// ---- the store, in its own process -----------------------------------------------------------------------------

/** Starts bench/store-process.mjs for `file`; resolves when it has indexed the file's keys and listens. */
function startRemoteStore(file, keysFile = '') {
  const child = fork(path.join(BENCH, 'store-process.mjs'), [file, STRICT ? 'strict' : '', opt('--store-delay', '0'), keysFile], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: (process.env.BENCH_STORE_NODE_ARGS ?? '--no-memory-reducer').split(' ').filter(Boolean) });
  const waiting = new Map();
  let nextId = 1;
  let run = 0;
  let onDone;
  // hrtime is CLOCK_MONOTONIC, the same in both processes: map the store's instant onto performance.now()
  const toPerfNow = (hr) => performance.now() - (Number(process.hrtime.bigint() - BigInt(hr)) / 1e6);
  const ask = (msg) =>
    new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      child.send({ ...msg, id });
    });
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`the bench store process exited (${code})`)));
    child.on('message', (m) => {
      if (m.op === 'ready') {
        resolve({
          url: m.url,
          port: m.port,
          expected: m.expected,
          /** Zeroes the counts; `done` resolves (performance.now() scale) when every expected event arrived. */
          async reset() {
            const mine = ++run;
            const done = new Promise((r) => (onDone = (at, which) => which === mine && r(at)));
            await ask({ op: 'reset', run: mine });
            return { done };
          },
          state: () => ask({ op: 'state' }),
          verifyFiles: (dir) => ask({ op: 'verify-files', dir }),
          close: () => {
            child.removeAllListeners('exit');
            child.send({ op: 'close' });
            return new Promise((r) => child.on('exit', r));
          },
        });
      } else if (m.op === 'done') onDone?.(toPerfNow(m.hr), m.run);
      else if (m.id) {
        waiting.get(m.id)?.(m);
        waiting.delete(m.id);
      }
    });
  });
}

// ---- an audit policy in --agent-args: the store expects only what the policy keeps ----------------------------

/** The `--audit-policy FILE` of --agent-args, if any. */
function agentPolicy() {
  for (let i = 0; i < AGENT_ARGS.length; i++) {
    if (AGENT_ARGS[i] === '--audit-policy') return AGENT_ARGS[i + 1];
    if (AGENT_ARGS[i].startsWith('--audit-policy=')) return AGENT_ARGS[i].slice('--audit-policy='.length);
  }
  return undefined;
}

/**
 * Writes the `auditID|stage` keys of the events `policy` keeps in `files` (from `tailship policy simulate
 * --per-event`, the same decision as the agent's) to a file for the store, which then expects exactly those.
 */
function keptKeys(policy, files) {
  const out = path.join(OUT, 'kept-keys.txt');
  const fd = fs.openSync(out, 'w');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'policy', 'simulate', '--policy', policy, '--per-event', ...files], { stdio: ['ignore', 'pipe', 'inherit'] });
    let rest = '';
    let kept = 0;
    let events = 0;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop();
      const keys = [];
      for (const l of lines) {
        if (!l) continue;
        const e = JSON.parse(l);
        events++;
        if (e.kept) {
          kept++;
          keys.push(`${e.auditID}|${e.stage}\n`);
        }
      }
      if (keys.length) fs.writeSync(fd, keys.join(''));
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      fs.closeSync(fd);
      if (code !== 0) reject(new Error(`policy simulate exited ${code}`));
      else resolve({ file: out, kept, events });
    });
  });
}

// ---- runs ---------------------------------------------------------------------------------------------------

function freshDir(name) {
  const dir = path.join(OUT, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function writeEnv(dir, auditFile) {
  const env = path.join(dir, 'inputs.env');
  fs.writeFileSync(env, `aliyun_logs_bench=${auditFile}\naliyun_logs_bench_product=k8s-audit\n`);
  return env;
}

async function runTailship(variant, i, ctx, { cpuProf } = {}) {
  const dir = freshDir(`${variant}-${i}`);
  const env = writeEnv(dir, ctx.file);
  const sink = variant === 'file' ? `file:${path.join(dir, 'sink')}${FILE_SINK_QUERY}` : variant === 'http' ? ctx.store.url : `${ctx.store.url}?gzip=false`;
  const { done } = await ctx.store.reset();
  const nodeArgs = [...NODE_ARGS, ...(cpuProf ? ['--cpu-prof', '--cpu-prof-dir', path.join(dir, 'prof')] : [])];
  const [program, args] = agentCommand(nodeArgs, ['run', '--env-file', env, '--state-dir', path.join(dir, 'state'), '--sink', sink, '--listen', 'off', '--exit-when-idle', ...AGENT_ARGS]);
  const storeCpu0 = (await ctx.store.state()).cpu;
  const m = await measure(program, args, {
    env: AGENT_ENV,
    logFile: path.join(dir, 'tailship.log'),
    until: variant === 'file' ? undefined : done,
  });
  m.storeCpu = (await ctx.store.state()).cpu - storeCpu0; // the HTTP store: gunzip + count
  if (m.code !== 0) throw new Error(`tailship (${variant}) exited ${m.code ?? m.signal}: see ${path.join(dir, 'tailship.log')}`);
  const check = variant === 'file' ? await verifyFileSink(path.join(dir, 'sink'), ctx) : await verifyStore(ctx);
  if (cpuProf) {
    const profDir = path.join(dir, 'prof');
    const prof = fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    m.profile = path.join(profDir, prof);
  }
  if (!KEEP && !cpuProf) fs.rmSync(path.join(dir, 'sink'), { recursive: true, force: true });
  return { ...m, ...check };
}

/** Keep every rotated output file (the check counts them all); older builds (BENCH_CLI) had no rotation. */
const FILE_SINK_QUERY = (() => {
  try {
    return fs.readFileSync(path.join(path.dirname(CLI), 'deliver', 'sinks', 'file-sink.js'), 'utf8').includes('max-files') ? '?max-files=0' : '';
  } catch {
    return '';
  }
})();

async function verifyStore(ctx) {
  const s = await ctx.store.state();
  const missing = s.expected - s.distinct;
  if (missing > 0 || s.unexpected > 0 || s.errors.length > 0) {
    throw new Error(`store check failed: ${missing} events missing (e.g. ${s.missing.join(', ')}), ${s.unexpected} unexpected; ${s.errors.join('; ')}`);
  }
  return { events: s.events, duplicates: s.duplicates, wireBytes: s.wireBytes, jsonBytes: s.jsonBytes };
}

async function verifyFileSink(dir, ctx) {
  const s = await ctx.store.verifyFiles(dir);
  const missing = s.expected - s.distinct;
  if (missing > 0 || s.unexpected > 0) throw new Error(`file sink check failed: ${missing} events missing (e.g. ${s.missing.join(', ')}), ${s.unexpected} unexpected`);
  if (s.lines !== s.events) throw new Error(`file sink check failed: ${s.lines} lines but ${s.events} events`);
  return { events: s.events, duplicates: s.duplicates, outBytes: s.outBytes };
}

async function runLimit(mode, i, ctx) {
  const dir = freshDir(`limit-${mode}-${i}`);
  const args = [path.join(BENCH, 'limits.mjs'), mode, ctx.file, String(ctx.gzipLevel)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`limits ${mode} failed (${code})`);
  const r = JSON.parse(out);
  fs.rmSync(dir, { recursive: true, force: true });
  return { wall: r.seconds, cpu: r.cpuSeconds, rss: r.maxRssBytes, events: r.lines || ctx.meta.lines, compressed: r.compressed };
}

async function runFluentBit(variant, i, ctx) {
  const dir = freshDir(`${variant}-${i}`);
  const conf = fs
    .readFileSync(path.join(BENCH, 'fluent-bit.conf'), 'utf8')
    .replaceAll('@FILE@', ctx.file)
    .replaceAll('@PORT@', String(ctx.store.port))
    .replaceAll('@DB@', path.join(dir, 'tail.db'))
    .replaceAll('@COMPRESS@', variant === 'fluent-bit' ? 'compress gzip' : '');
  fs.writeFileSync(path.join(dir, 'fluent-bit.conf'), conf);
  fs.copyFileSync(path.join(BENCH, 'fluent-bit-parsers.conf'), path.join(dir, 'parsers.conf'));
  const { done } = await ctx.store.reset();
  const m = await measure('fluent-bit', ['-c', path.join(dir, 'fluent-bit.conf')], {
    logFile: path.join(dir, 'fluent-bit.log'),
    until: done,
    terminateWhenDone: true,
  });
  return { ...m, ...(await verifyStore(ctx)) };
}

// ---- reporting ----------------------------------------------------------------------------------------------

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x, d = 1) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(d));
const withRange = (v, r) => (r ? `${v} (${r})` : v);
const range = (xs, d = 1) => (xs.length > 1 ? `${fmt(Math.min(...xs), d)}–${fmt(Math.max(...xs), d)}` : '');

function summarize(label, runs, bytes) {
  const mbs = runs.map((r) => bytes / 1e6 / r.wall);
  const eps = runs.map((r) => r.events / r.wall);
  const cpg = runs.map((r) => r.cpu / (bytes / 1e9));
  const rss = runs.map((r) => r.rss / 1e6);
  return { label, mbs, eps, cpg, rss, mb: median(mbs), dups: runs.reduce((s, r) => s + (r.duplicates ?? 0), 0) };
}

function table(rows, parseMbs, fbMbs) {
  const head = ['what', 'MB/s median (min–max)', 'events/s', 'CPU-s/GB (min–max)', 'peak RSS MB (min–max)', '× JSON.parse', ...(fbMbs ? ['× Fluent Bit'] : [])];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    lines.push(
      `| ${[
        r.label,
        withRange(fmt(r.mb), range(r.mbs)),
        fmt(median(r.eps), 0),
        withRange(fmt(median(r.cpg)), range(r.cpg)),
        withRange(fmt(median(r.rss), 0), range(r.rss, 0)),
        parseMbs ? fmt(r.mb / parseMbs, 2) : '–',
        ...(fbMbs ? [fmt(r.mb / fbMbs, 2)] : []),
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

function machine() {
  const cpu = os.cpus();
  return {
    date: new Date().toISOString(),
    nproc: cpu.length,
    cpu: cpu[0]?.model,
    memGB: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    loadavg: os.loadavg().map((x) => +x.toFixed(2)),
    speed: calibrate(),
  };
}

// ---- steady and idle: one agent on a log directory of its own ------------------------------------------------

/** A fresh run directory with an empty `log/` and the active file's path in it. */
function logRunDir(name) {
  const dir = freshDir(name);
  const logDir = path.join(dir, 'log');
  fs.mkdirSync(logDir);
  return { dir, logDir, active: path.join(logDir, 'kubernetes.audit') };
}

/** The store's key of a generated event line: `auditID|stage`. */
function auditKey(line) {
  const a = line.indexOf('"auditID":"') + 11;
  const st = line.indexOf('"stage":"', a) + 9;
  return `${line.slice(a, line.indexOf('"', a))}|${line.slice(st, line.indexOf('"', st))}`;
}

/** Starts the agent (agentCommand: NODE_ARGS and `moreNodeArgs`, the CLI's `cliArgs`), output in `dir/tailship.log`. */
function spawnAgent(dir, moreNodeArgs, cliArgs) {
  const errFd = fs.openSync(path.join(dir, 'tailship.log'), 'w');
  const [program, argv] = agentCommand([...NODE_ARGS, ...moreNodeArgs], cliArgs);
  const child = spawn(program, argv, { env: AGENT_ENV, stdio: ['ignore', errFd, errFd] });
  fs.closeSync(errFd);
  return { child, exited: new Promise((r) => child.on('exit', r)) };
}

// ---- steady state -------------------------------------------------------------------------------------------

async function steady() {
  const seconds = Number(opt('--steady-seconds', '60'));
  const rate = parseSize(opt('--steady-rate', '10000000'));
  const rotateAt = parseSize(opt('--steady-rotate', '100M'));
  const { dir, logDir, active } = logRunDir('steady');
  let fd = fs.openSync(active, 'w', 0o600);
  let size = 0;
  const store = await startStore({ expected: new Map() });
  store.reset();
  const env = writeEnv(dir, active);
  const profDir = path.join(dir, 'prof');
  const { child, exited } = spawnAgent(dir, PROFILE ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [], ['run', '--env-file', env, '--state-dir', path.join(dir, 'state'), '--sink', store.url, '--listen', 'off', ...AGENT_ARGS]);
  await new Promise((r) => setTimeout(r, 1500));
  // `--launch node` on a Node without process.execve: the process started is a relay and the agent its child.
  // RSS is the agent's (the relay's is reported beside it); CPU is both.
  const agent = LAUNCH === 'node' ? await relaunchedChild(child.pid) : child.pid;
  const cpuOf = () => (agent === child.pid ? 0 : procStat(child.pid)?.cpu ?? 0) + (procStat(agent)?.cpu ?? 0);

  // lumberjack: rotate before a write that would pass the limit; one write(2) per event.
  const gen = createAuditStream(SEED + 1000, Date.now() * 1000);
  const rotate = () => {
    fs.closeSync(fd);
    const stamp = new Date().toISOString().replace(/:/g, '-').replace('Z', '');
    fs.renameSync(active, path.join(logDir, `kubernetes-${stamp}.audit`));
    fd = fs.openSync(active, 'w', 0o600);
    size = 0;
    rotations++;
  };
  let rotations = 0;
  let written = 0;
  let events = 0;
  const t0 = performance.now();
  const warmup = Math.min(5, seconds / 4);
  let c0;
  let cEnd;
  const rssSamples = [];
  let pending = gen.next();
  await new Promise((resolve) => {
    const tick = setInterval(() => {
      const el = (performance.now() - t0) / 1000;
      if (c0 === undefined && el >= warmup) c0 = { t: performance.now(), cpu: cpuOf(), threads: threadCpu(agent) };
      if (el >= seconds) {
        cEnd = { t: performance.now(), cpu: cpuOf(), threads: threadCpu(agent) };
        clearInterval(tick);
        resolve();
        return;
      }
      while (written < rate * el) {
        const line = pending;
        if (size + line.length > rotateAt) rotate();
        fs.writeSync(fd, line);
        size += line.length;
        written += line.length;
        events++;
        store.expected.set(auditKey(line), 0);
        pending = gen.next();
      }
    }, 5);
    const sampler = setInterval(() => {
      const s = procStat(agent);
      if (s) rssSamples.push(s.rss);
      if (cEnd) clearInterval(sampler);
    }, 1000);
  });
  fs.closeSync(fd);
  const stopAt = performance.now();
  // With --audit-policy the store expects only what the policy keeps (decided after the window: the simulation
  // would have competed with the agent for the cores), so the catch-up time includes the simulation.
  const policy = agentPolicy();
  if (policy) await keepOnlyKept(policy, logDir, store.expected);
  // Every event written must arrive: wait for the store, then stop tailship.
  const deadline = stopAt + 60_000;
  while (store.state.distinct < store.expected.size && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const caughtUpAfter = (performance.now() - stopAt) / 1000;
  const hwm = procStat(agent)?.hwm;
  const relayHwm = agent === child.pid ? undefined : procStat(child.pid)?.hwm;
  child.kill('SIGTERM');
  await exited;
  await store.close();
  const missing = store.expected.size - store.state.distinct;
  const window = (cEnd.t - c0.t) / 1000;
  const cpuPct = (100 * (cEnd.cpu - c0.cpu)) / window;
  const res = {
    seconds,
    rateMBs: rate / 1e6,
    writtenMB: written / 1e6,
    events,
    rotations,
    cpuPercentOfOneCore: +cpuPct.toFixed(2),
    cpuWindowSeconds: +window.toFixed(1),
    rssMaxMB: +(Math.max(...rssSamples) / 1e6).toFixed(1),
    rssMedianMB: +(median(rssSamples) / 1e6).toFixed(1),
    peakRssMB: +(hwm / 1e6).toFixed(1),
    ...(relayHwm === undefined ? {} : { relayPeakRssMB: +(relayHwm / 1e6).toFixed(1) }),
    ...(policy ? { policy, keptEvents: store.expected.size, caughtUpIncludesSimulation: true } : {}),
    missing,
    duplicates: store.state.duplicates,
    caughtUpAfterSeconds: +caughtUpAfter.toFixed(2),
    /** % of one core per kind of thread over the window */
    threads: Object.fromEntries(Object.entries(cEnd.threads).map(([k, v]) => [k, +((100 * (v - (c0.threads[k] ?? 0))) / window).toFixed(2)])),
  };
  if (!KEEP) fs.rmSync(logDir, { recursive: true, force: true });
  if (PROFILE) res.profile = summarizeProfile(path.join(profDir, fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))), 25);
  return res;
}

// ---- idle -----------------------------------------------------------------------------------------------------

/**
 * `--idle`: tailship as deployed (metrics server on) ships `--idle-events` events (1000), then nothing moves for
 * `--idle-seconds` (60) from its start: CPU over the second half, RSS at the end (after the GC that idling lets V8
 * do) and the peak. Every event must arrive first, so the figure is an agent that has shipped, not one that never read.
 */
async function idle() {
  const seconds = Number(opt('--idle-seconds', '60'));
  const count = Number(opt('--idle-events', '1000'));
  const { dir, logDir, active } = logRunDir('idle');
  const store = await startStore({ expected: new Map() });
  store.reset();
  const gen = createAuditStream(SEED + 2000, Date.now() * 1000);
  const lines = [];
  for (let i = 0; i < count; i++) {
    const line = gen.next();
    lines.push(line);
    store.expected.set(auditKey(line), 0);
  }
  fs.writeFileSync(active, lines.join(''), { mode: 0o600 });
  const env = writeEnv(dir, active);
  const { child, exited } = spawnAgent(dir, [], ['run', '--env-file', env, '--state-dir', path.join(dir, 'state'), '--sink', store.url, '--listen', '127.0.0.1:0', ...AGENT_ARGS]);
  const t0 = performance.now();
  const sleepUntil = (s) => new Promise((r) => setTimeout(r, Math.max(0, t0 + s * 1000 - performance.now())));
  while (store.state.distinct < store.expected.size && performance.now() - t0 < seconds * 500) await new Promise((r) => setTimeout(r, 50));
  const shippedAfter = (performance.now() - t0) / 1000;
  const agent = LAUNCH === 'node' ? await relaunchedChild(child.pid) : child.pid;
  await sleepUntil(seconds / 2);
  const c0 = { t: performance.now(), cpu: procStat(agent)?.cpu ?? 0 };
  await sleepUntil(seconds);
  const end = procStat(agent);
  const cpuPct = (100 * ((end?.cpu ?? 0) - c0.cpu)) / ((performance.now() - c0.t) / 1000);
  child.kill('SIGTERM');
  await exited;
  await store.close();
  if (!KEEP) fs.rmSync(logDir, { recursive: true, force: true });
  return { seconds, events: count, shippedAfterSeconds: +shippedAfter.toFixed(2), missing: store.expected.size - store.state.distinct, cpuPercentOfOneCore: +cpuPct.toFixed(2), rssMB: +((end?.rss ?? 0) / 1e6).toFixed(1), peakRssMB: +((end?.hwm ?? 0) / 1e6).toFixed(1) };
}

/** The relaunched agent under a relay `pid` (waits for it up to 10 s), or `pid` itself if none appears (execve). */
async function relaunchedChild(pid) {
  for (const t = Date.now(); Date.now() - t < 10_000; await new Promise((r) => setTimeout(r, 50))) {
    const c = childPid(pid);
    if (c) return c;
  }
  return pid;
}

/** Drops from `expected` every `auditID|stage` the policy does not keep, over every log file in `logDir`. */
async function keepOnlyKept(policy, logDir, expected) {
  const { file } = await keptKeys(policy, fs.readdirSync(logDir).map((f) => path.join(logDir, f)));
  const kept = new Set(fs.readFileSync(file, 'utf8').split('\n'));
  for (const k of expected.keys()) if (!kept.has(k)) expected.delete(k);
}

// ---- main ---------------------------------------------------------------------------------------------------

async function main() {
  ensureBuilt();
  fs.mkdirSync(OUT, { recursive: true });
  const m = machine();
  log(`machine: ${m.nproc} × ${m.cpu}, ${m.memGB} GiB, node ${m.node}, load ${m.loadavg.join(' ')}; speed now: gzip -3 ${m.speed.gzip3MBs} MB/s, JSON.parse ${m.speed.jsonParseMBs} MB/s (bench/calibrate.mjs); ${hasTime ? 'GNU time' : '/proc sampling'} for CPU and RSS`);
  log(
    LAUNCH === 'command'
      ? `tailship runs as: ${launchText()}, executed`
      : `tailship runs as: ${launchText()} (node flags from ${LAUNCH === 'node' ? '--launch node: none' : NODE_ARGS_GIVEN ? '--node-args' : 'the tailship command, bin/tailship'})`,
  );

  if (flag('--idle')) {
    const r = await idle();
    console.log(JSON.stringify({ machine: m, idle: r, loadAfter: os.loadavg().map((x) => +x.toFixed(2)) }, null, 2));
    console.log(`\nidle: ${r.events} events shipped in ${r.shippedAfterSeconds} s (${r.missing} missing), then ${r.seconds} s from the start: tailship ${r.cpuPercentOfOneCore} % of one core over the second half, RSS ${r.rssMB} MB at the end, peak ${r.peakRssMB} MB`);
    if (r.missing > 0) process.exitCode = 1;
    return;
  }
  if (flag('--steady')) {
    const r = await steady();
    const { profile, ...rest } = r;
    console.log(JSON.stringify({ machine: m, steady: rest, loadAfter: os.loadavg().map((x) => +x.toFixed(2)) }, null, 2));
    if (profile) console.log(`\n${profile}`);
    console.log(`\nsteady ${r.rateMBs} MB/s for ${r.seconds} s (${r.rotations} rotations): tailship ${r.cpuPercentOfOneCore} % of one core, RSS median ${r.rssMedianMB} MB, max ${r.rssMaxMB} MB${r.relayPeakRssMB === undefined ? '' : ` (its relay: peak ${r.relayPeakRssMB} MB)`}; ${r.policy ? `the policy kept ${r.keptEvents} of ${r.events} events; ` : ''}${r.missing} missing, ${r.duplicates} duplicates; caught up ${r.caughtUpAfterSeconds} s after the writer stopped${r.policy ? ' (including the policy simulation)' : ''}`);
    if (r.missing > 0) process.exitCode = 1;
    return;
  }

  const { file, meta } = ensureAuditLog(SIZE, SEED, { log });
  log(`input: ${file} (${(meta.bytes / 1e6).toFixed(1)} MB, ${meta.lines} events, lines ${meta.minLine}..${meta.maxLine} B, mean ${meta.meanLine} B)`);
  const t = performance.now();
  const policy = agentPolicy();
  let keysFile = '';
  if (policy) {
    const k = await keptKeys(policy, [file]);
    keysFile = k.file;
    log(`--audit-policy ${policy}: keeps ${k.kept} of ${k.events} events (policy simulate, ${((performance.now() - t) / 1000).toFixed(1)} s); the store expects those`);
  }
  const store = await startRemoteStore(file, keysFile);
  log(`store ready: indexed ${store.expected} auditID+stage keys in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const ctx = { file, meta, store, gzipLevel: await gzipLevelInUse() };

  if (PROFILE) {
    const r = await runTailship(PROFILE, 'profile', ctx, { cpuProf: true });
    log(`profiled run (${PROFILE}): ${fmt(meta.bytes / 1e6 / r.wall)} MB/s, ${fmt(r.cpu)} CPU-s; profile ${r.profile}`);
    console.log(summarizeProfile(r.profile, 25));
    await store.close();
    return;
  }

  // The store-backed rows first: a store process that idled ~10 s (during the limit rows) then spent twice the
  // CPU on the same bodies (its heap had been shrunk around a 660k-key map), slowing the agent it measures.
  const variants = [
    ['http', 'http', `tailship → http, gzip ${ctx.gzipLevel}`],
    ['http-plain', 'http-plain', 'tailship → http, ?gzip=false'],
    ['file', 'file', 'tailship → file: (fdatasync per batch)'],
    ['fluent-bit', 'fluent-bit', 'Fluent Bit tail → http, gzip'],
    ['fluent-bit', 'fluent-bit-plain', 'Fluent Bit tail → http, no gzip'],
    ['limits', 'read', 'limit: read the file (1 MiB reads)'],
    ['limits', 'parse', 'limit: JSON.parse every line (1 thread)'],
    ['limits', 'gzip', `limit: gzip level ${ctx.gzipLevel} (1 thread)`],
  ];
  const rows = [];
  let parseMbs;
  let fbMbs;
  for (const [group, variant, label] of variants) {
    if (!ONLY.includes(group) && !ONLY.includes(variant)) continue;
    if (group === 'fluent-bit' && policy) {
      log('--audit-policy given: skipping the Fluent Bit rows (they would ship every event)');
      continue;
    }
    if (group === 'fluent-bit' && !onPath('fluent-bit')) {
      log('fluent-bit is not on PATH: skipping the Fluent Bit rows');
      continue;
    }
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      const r = group === 'limits' ? await runLimit(variant, i, ctx) : group === 'fluent-bit' ? await runFluentBit(variant, i, ctx) : await runTailship(variant, i, ctx);
      runs.push(r);
      log(`  ${label} #${i + 1}: ${fmt(meta.bytes / 1e6 / r.wall)} MB/s, ${fmt(r.cpu)} CPU-s, peak RSS ${fmt(r.rss / 1e6, 0)} MB${r.duplicates ? `, ${r.duplicates} duplicates` : ''}${r.wireBytes && r.jsonBytes ? `, wire ${fmt(r.wireBytes / 1e6)} MB of ${fmt(r.jsonBytes / 1e6)} MB JSON` : ''}${r.storeCpu !== undefined ? `, bench store ${fmt(r.storeCpu)} CPU-s` : ''} (load ${os.loadavg()[0].toFixed(2)})`);
    }
    const row = summarize(label, runs, meta.bytes);
    if (variant === 'parse') parseMbs = row.mb;
    if (variant === 'fluent-bit') fbMbs = row.mb;
    rows.push(row);
  }
  await store.close();
  const mEnd = machine();
  console.log(`\ntailship bench — ${m.date}; ${m.nproc} × ${m.cpu}, ${m.memGB} GiB RAM, node ${m.node}`);
  console.log(`input: ${(meta.bytes / 1e6).toFixed(1)} MB, ${meta.lines} audit events (seed ${SEED}); ${RUNS} run(s) each; load average before ${m.loadavg.join(' ')}, after ${mEnd.loadavg.join(' ')}`);
  console.log(`tailship: ${launchText()}`);
  console.log('MB = 10^6 bytes of the input file; CPU = user+sys of the process; wall = start → last event acknowledged\n');
  const shown = [...rows.filter((r) => r.label.startsWith('limit')), ...rows.filter((r) => !r.label.startsWith('limit'))];
  console.log(table(shown, parseMbs, fbMbs));
  const json = path.join(OUT, `results-${meta.bytes}-${m.date.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(json, `${JSON.stringify({ machine: m, machineAfter: mEnd, meta, rows }, null, 2)}\n`);
  log(`\nresults also in ${path.relative(ROOT, json)}`);
}

main().catch((e) => {
  log(`bench failed: ${e.stack ?? e.message}`);
  process.exit(1);
});
