// Runs the real agent as a child process (`node dist/cli.js run …`) and watches it only from outside: its exit,
// its pino JSON on stderr, and what its file sink wrote. Scenario tests use nothing of the agent's internals.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SinkReader, type ShippedLog } from './ndjson.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');
/** The `tailship` command as npm links it: a script that runs CLI under the node flags tailship is sized for. */
export const LAUNCHER = path.join(REPO_ROOT, 'bin', 'tailship');

/** The node name every scenario gives the agent (SPEC §2: `__hostname__` comes from NODE_NAME). */
export const NODE_NAME = 'test-node';

/** True once the agent's CLI has been built (test/global-setup.ts runs tsc before the tests). */
export function cliAvailable(): boolean {
  return fs.existsSync(CLI);
}

/** One line of the agent's stderr: pino JSON when it parses, else `{ raw }` only. */
export interface AgentLogLine {
  raw: string;
  level?: number;
  msg?: string;
  [key: string]: unknown;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartAgentOptions {
  /** Arguments after `run`. */
  args: string[];
  /** Added to a clean environment (PATH, HOME, NODE_NAME=test-node; no inherited aliyun_logs_* or TAILSHIP_*). */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Run as this user/group (needs root): the permission scenario drops root so that modes apply. */
  uid?: number;
  gid?: number;
  /** The CLI command; default `run`. */
  command?: string;
  /** Start it as the `tailship` command (LAUNCHER) instead of `node dist/cli.js`. */
  asCommand?: boolean;
}

export interface AgentProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly stdoutLines: string[];
  readonly stderrLines: string[];
  readonly logs: AgentLogLine[];
  readonly exit: ExitInfo | undefined;
  /** Sends a signal to this process only. */
  kill(signal?: NodeJS.Signals): void;
  /** SIGSTOP: the agent freezes with all its fds open (a tailer that lags, deterministically). */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Resolves with the exit status; rejects after `timeoutMs` with the stderr tail. */
  waitExit(timeoutMs?: number): Promise<ExitInfo>;
  /** SIGTERM, then waitExit(); throws unless the agent exits 0 (SPEC §1: drains, saves, exits 0). */
  stop(timeoutMs?: number): Promise<ExitInfo>;
  /** Log lines at warn or above (pino level ≥ 40), and lines that are not JSON at all. */
  warnings(): AgentLogLine[];
  /** The last stderr lines, for failure messages. */
  stderrTail(n?: number): string;
}

const running = new Set<AgentProcess>();

function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(aliyun_logs_|loong_logs_|TAILSHIP_|ALIBABA_CLOUD_|ALICLOUD_)/i.test(k)) continue;
    if (k === 'NODE_OPTIONS' || k.startsWith('VITEST') || k === 'NODE_V8_COVERAGE') continue;
    env[k] = v;
  }
  env.NODE_NAME = NODE_NAME;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Spawns `node dist/cli.js run ARGS`, capturing stdout lines and stderr (parsed as pino JSON). */
/**
 * A pid and its children: `node dist/cli.js run` without the heap flags relaunches itself as a child on Node 20
 * (src/launch/heap-bound.ts), which relays SIGTERM/SIGINT/SIGHUP and dies with its parent, but SIGSTOP/SIGCONT
 * cannot be relayed.
 */
export function withChildren(pid: number): number[] {
  try {
    const kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return [pid, ...(kids ? kids.split(/\s+/).map(Number) : [])];
  } catch {
    return [pid];
  }
}

export function startAgent(opts: StartAgentOptions): AgentProcess {
  if (!cliAvailable()) throw new Error(`${CLI} is missing: the agent is not built (npm run build)`);
  const argv = [opts.command ?? 'run', ...opts.args];
  const child = spawn(opts.asCommand ? LAUNCHER : process.execPath, opts.asCommand ? argv : [CLI, ...argv], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: cleanEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
    ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
  });
  const stdoutLines: string[] = [];
  const stderrLines: string[] = [];
  const logs: AgentLogLine[] = [];
  let exit: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });
  splitLines(child.stdout!, (line) => stdoutLines.push(line));
  splitLines(child.stderr!, (line) => {
    stderrLines.push(line);
    logs.push(parseLogLine(line));
  });
  // Wait for the stdio to close too, so that no line printed before exit is missed.
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));

  const tail = (n = 25): string => {
    const lines = stderrLines.slice(-n).map((l) => (l.length > 600 ? `${l.slice(0, 600)}…` : l));
    return lines.length ? lines.join('\n') : '(no stderr output)';
  };

  const agent: AgentProcess = {
    child,
    pid: child.pid!,
    stdoutLines,
    stderrLines,
    logs,
    get exit() {
      return exit;
    },
    kill(signal = 'SIGTERM') {
      if (!exit) process.kill(child.pid!, signal);
    },
    pause() {
      if (!exit) for (const pid of withChildren(child.pid!)) process.kill(pid, 'SIGSTOP');
    },
    resume() {
      if (!exit) for (const pid of withChildren(child.pid!)) process.kill(pid, 'SIGCONT');
    },
    async waitExit(timeoutMs = 30_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`agent pid ${child.pid} did not exit within ${timeoutMs} ms; stderr tail:\n${tail()}`)),
          timeoutMs,
        );
      });
      try {
        const info = await Promise.race([exited, timeout]);
        await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
        return info;
      } finally {
        clearTimeout(timer);
        running.delete(agent);
      }
    },
    async stop(timeoutMs = 30_000) {
      agent.resume();
      agent.kill('SIGTERM');
      const info = await agent.waitExit(timeoutMs);
      if (info.code !== 0) {
        throw new Error(`agent pid ${child.pid} exited with code ${info.code} signal ${info.signal} after SIGTERM (SPEC: 0 after a clean stop); stderr tail:\n${tail()}`);
      }
      return info;
    },
    warnings() {
      return logs.filter((l) => l.level === undefined || l.level >= 40);
    },
    stderrTail: tail,
  };
  running.add(agent);
  return agent;
}

/** Kills (SIGKILL) every agent this module started that is still running: for afterEach. By pid, never by name. */
export async function killAllAgents(): Promise<void> {
  const all = [...running];
  for (const a of all) {
    if (a.exit) continue;
    try {
      process.kill(a.pid, 'SIGCONT');
      process.kill(a.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await Promise.all(all.map((a) => a.waitExit(10_000).catch(() => undefined)));
}

function splitLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    rest += chunk;
    let i: number;
    while ((i = rest.indexOf('\n')) >= 0) {
      onLine(rest.slice(0, i));
      rest = rest.slice(i + 1);
    }
  });
  stream.on('end', () => {
    if (rest) onLine(rest);
    rest = '';
  });
}

const PINO_LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

function parseLogLine(line: string): AgentLogLine {
  try {
    const obj = JSON.parse(line) as unknown;
    if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
      const rec = { ...(obj as Record<string, unknown>), raw: line } as AgentLogLine;
      // The agent logs level labels ("warn"); tests compare pino's numbers.
      if (typeof rec.level === 'string') rec.level = PINO_LEVELS[rec.level as string] ?? rec.level;
      return rec;
    }
  } catch {
    // not pino JSON: keep the raw text
  }
  return { raw: line };
}

/** Runs a one-shot CLI command (`status`, `config`) to completion. */
export function runCli(args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string } = {}): {
  code: number | null;
  stdout: string;
  stderr: string;
} {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: cleanEnv(opts.env),
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export interface WaitOptions {
  /** Default 30 s: generous, the machine has two cores and other tests run at the same time. */
  timeoutMs?: number;
  intervalMs?: number;
  /** Fail at once (with its stderr) if this agent exits while we wait. */
  agent?: AgentProcess;
}

/**
 * Polls the sink output until `predicate(logs)` returns true. The predicate returns a string that says what is
 * still missing otherwise; on timeout that string is the error message (with the agent's stderr tail).
 */
export async function waitForLogs(
  source: string | SinkReader,
  predicate: (logs: ShippedLog[]) => true | string,
  opts: WaitOptions = {},
): Promise<ShippedLog[]> {
  const reader = typeof source === 'string' ? new SinkReader(source) : source;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let last: true | string = 'not checked yet';
  for (;;) {
    const logs = reader.all();
    last = predicate(logs);
    if (last === true) return logs;
    if (opts.agent?.exit) {
      throw new Error(
        `agent exited (code ${opts.agent.exit.code}, signal ${opts.agent.exit.signal}) while waiting: ${last}\nstderr tail:\n${opts.agent.stderrTail()}`,
      );
    }
    if (Date.now() > deadline) {
      const stderr = opts.agent ? `\nagent stderr tail:\n${opts.agent.stderrTail()}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for the sink output: ${last}${stderr}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Polls until `cond()` is true (or returns a value); on timeout throws with `describe()`. */
export async function waitUntil<T>(
  cond: () => T | false | undefined | null,
  describe: () => string,
  opts: WaitOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = cond();
    if (v) return v;
    if (opts.agent?.exit) {
      throw new Error(`agent exited (code ${opts.agent.exit.code}) while waiting for: ${describe()}\nstderr tail:\n${opts.agent.stderrTail()}`);
    }
    if (Date.now() > deadline) {
      const stderr = opts.agent ? `\nagent stderr tail:\n${opts.agent.stderrTail()}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for: ${describe()}${stderr}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}

/** A predicate for waitForLogs: every key of `expected` delivered at least as often as it occurs there. */
export function hasAllKeys(expected: Iterable<string>, keyOf: (log: ShippedLog) => string): (logs: ShippedLog[]) => true | string {
  const want = new Map<string, number>();
  for (const k of expected) want.set(k, (want.get(k) ?? 0) + 1);
  return (logs) => {
    const got = new Map<string, number>();
    for (const l of logs) {
      const k = keyOf(l);
      got.set(k, (got.get(k) ?? 0) + 1);
    }
    const missing: string[] = [];
    let missingCount = 0;
    for (const [k, n] of want) {
      const g = got.get(k) ?? 0;
      if (g < n) {
        missingCount += n - g;
        if (missing.length < 10) missing.push(`${k.length > 120 ? `${k.slice(0, 120)}…` : k} (${g}/${n})`);
      }
    }
    if (missingCount === 0) return true;
    return `${missingCount} of ${[...want.values()].reduce((a, b) => a + b, 0)} expected events not delivered yet (have ${logs.length} logs), e.g.:\n  ${missing.join('\n  ')}`;
  };
}

/** A scratch directory tree for one scenario: logs/, state/, out/ and the env file naming the input. */
export interface Workspace {
  root: string;
  logDir: string;
  stateDir: string;
  outDir: string;
  /** `logs/kubernetes.audit`. */
  activePath: string;
  envFile: string;
  /** The logstore the input ships to (`audit-test`). */
  logstore: string;
  reader(): SinkReader;
  /** `run` arguments: env file, state dir, file sink, no listener, warn logs, 50 ms batch wait, plus `extra`. */
  args(extra?: string[]): string[];
  start(extra?: string[], opts?: Partial<StartAgentOptions>): AgentProcess;
  /** Rewrites the env file: `aliyun_logs_audit-test=<inputPath>` (+ product k8s-audit unless json=false). */
  writeEnv(inputPath: string, opts?: { json?: boolean; more?: string[] }): void;
  cleanup(): void;
}

export function createWorkspace(name: string): Workspace {
  // All scenario workspaces under one parent, so that a failed run's leftovers are easy to find and remove.
  const parent = path.join(os.tmpdir(), 'tailship-scenarios');
  fs.mkdirSync(parent, { recursive: true, mode: 0o755 });
  const root = fs.mkdtempSync(path.join(parent, `${name.replace(/[^a-z0-9-]/gi, '-')}-`));
  const logDir = path.join(root, 'logs');
  const stateDir = path.join(root, 'state');
  const outDir = path.join(root, 'out');
  for (const d of [logDir, stateDir, outDir]) fs.mkdirSync(d, { recursive: true });
  const activePath = path.join(logDir, 'kubernetes.audit');
  const envFile = path.join(root, 'agent.env');
  const logstore = 'audit-test';
  const ws: Workspace = {
    root,
    logDir,
    stateDir,
    outDir,
    activePath,
    envFile,
    logstore,
    reader: () => new SinkReader(outDir, logstore),
    args: (extra = []) => {
      // A flag given in `extra` replaces its default here, so that every flag appears once.
      const defaults: Array<[string, string]> = [
        ['--env-file', envFile],
        ['--state-dir', stateDir],
        ['--sink', `file:${outDir}`],
        ['--listen', 'off'],
        ['--log-level', 'warn'],
        ['--batch-max-wait', '50'],
      ];
      return [...defaults.filter(([flag]) => !extra.includes(flag)).flat(), ...extra];
    },
    start: (extra = [], opts = {}) => startAgent({ ...opts, args: ws.args(extra) }),
    writeEnv(inputPath, opts = {}) {
      const lines = [`aliyun_logs_${logstore}=${inputPath}`];
      if (opts.json !== false) lines.push(`aliyun_logs_${logstore}_product=k8s-audit`);
      lines.push(...(opts.more ?? []));
      fs.writeFileSync(envFile, `${lines.join('\n')}\n`);
    },
    cleanup() {
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
  ws.writeEnv(activePath);
  return ws;
}

/** A free TCP port on 127.0.0.1 (for `--listen`); there is a small window in which someone else could take it. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** GET /metrics and return the value of one sample (sum over its label sets), or undefined if unreachable. */
export async function scrapeMetric(port: number, name: string): Promise<number | undefined> {
  let text: string;
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    if (!res.ok) return undefined;
    text = await res.text();
  } catch {
    return undefined;
  }
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1] === name) sum = (sum ?? 0) + Number(m[3]);
  }
  return sum;
}

/** Polls `GET /readyz` until it answers 200 (SPEC §5: once inputs are set up). */
export async function waitReady(port: number, opts: WaitOptions = {}): Promise<void> {
  let last = 'no answer yet';
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.status === 200) return;
      last = `/readyz answered ${res.status}`;
    } catch (err) {
      last = `/readyz not reachable: ${(err as Error).message}`;
    }
    if (opts.agent?.exit) throw new Error(`agent exited (code ${opts.agent.exit.code}) before it was ready: ${last}\n${opts.agent.stderrTail()}`);
    if (Date.now() > deadline) throw new Error(`agent not ready on 127.0.0.1:${port}: ${last}${opts.agent ? `\n${opts.agent.stderrTail()}` : ''}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}
