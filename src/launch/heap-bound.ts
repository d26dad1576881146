import { spawn } from 'node:child_process';
import { getHeapStatistics } from 'node:v8';

/**
 * The V8 limits tailship is sized for (the `tailship` command, dist/cli.js's shebang and the image's NODE_OPTIONS
 * give the same).
 * Without them Node 20 on a 23 GiB machine allows a 4 GiB heap and a 16 MiB semi-space, and an agent catching up
 * on a backlog peaks at ~250 MB RSS instead of ~160 (bench/README.md, "Bounding the heap however launched").
 * V8 reads these only when the heap is set up: `v8.setFlagsFromString` after start changes nothing (measured).
 * A 1 MiB semi-space rather than 2: with the GC flags below, steady 10 MB/s RSS 82-83 -> 79 MB and a 1 GiB
 * backlog's peak 100 -> 96-98 MB, for ~0.5 point of a core and 1-4 % of the backlog speed (bench/README.md).
 */
export const HEAP_FLAGS = ['--max-old-space-size=100', '--max-semi-space-size=1'] as const;
/**
 * V8's garbage collector and baseline compiler on the main thread only. On a 2-core node, concurrent marking and
 * background compile tasks cost more CPU in all than they save the main thread (steady 10 MB/s: 16.7 -> 15.6 % of
 * a core, 9 of 9 interleaved pairs; a 1 GiB backlog 15.7 -> 15.2 CPU-s, same speed and peak; either flag alone
 * is noise; bench/README.md). Node takes them only on its command line (it refuses them in NODE_OPTIONS), and V8
 * only at start: `v8.setFlagsFromString('--single-threaded-gc')` aborts V8 at the next full GC. So the `tailship`
 * command (bin/tailship), the image's entrypoint and a relaunch give them; node started by hand with an operator's
 * own heap flags (no relaunch) runs without them.
 */
export const GC_FLAGS = ['--single-threaded-gc', '--no-sparkplug'] as const;
/** Every node flag the `tailship` command runs with, in its order. */
export const NODE_FLAGS = [...HEAP_FLAGS, ...GC_FLAGS] as const;
/**
 * glibc's malloc. At most 2 arenas: zlib and the libuv pool allocate from their threads, and each thread's own
 * arena keeps what it freed (peak RSS of a backlog ~6 MB lower, same speed). A fixed 128 KiB mmap threshold:
 * glibc raises it (up to 32 MiB) each time an mmapped block is freed, after which zlib's state and Buffers'
 * backing stores come from the arenas and stay there, fragmented (~5 MB lower peak and steady RSS, same speed;
 * bench/README.md). Set in the relaunched process, by the `tailship` command and by the shebang.
 */
export const MALLOC_ENV = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' } as const;
/** Set in the relaunched process, so that it never relaunches again whatever its heap limit says. */
export const RELAUNCHED_ENV = 'TAILSHIP_HEAP_BOUND';
/** A heap limit above this means no `--max-old-space-size` was given (V8's default is ≥ 1 GiB on 64-bit). */
const UNBOUNDED_LIMIT = 512 * 1024 * 1024;
const COMMANDS = ['run', 'config', 'status', 'help', 'version'];
const FORWARDED_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

export interface LaunchFacts {
  /** Arguments after the script, e.g. `['run', '--sink', …]`. */
  args: readonly string[];
  execArgv: readonly string[];
  env: Record<string, string | undefined>;
  heapSizeLimit: number;
}

/**
 * Whether this process should be relaunched with HEAP_FLAGS: only for `run` (the long-lived command; `status`,
 * `config` and `--help` finish in milliseconds), only when no heap size was given on the command line or in
 * NODE_OPTIONS (an operator's own flags win), and never twice.
 */
export function needsHeapBound(f: LaunchFacts): boolean {
  if (f.env[RELAUNCHED_ENV] !== undefined) return false;
  if (!isRunCommand(f.args)) return false;
  const given = [...f.execArgv, ...(f.env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (given.some((a) => /^--max-old-space-size(=|$)|^--max-semi-space-size(=|$)/.test(a))) return false;
  return f.heapSizeLimit > UNBOUNDED_LIMIT;
}

/** `run` is the default command; the first command word decides (a flag's value is never one of them). */
function isRunCommand(args: readonly string[]): boolean {
  if (args.includes('--help') || args.includes('-h') || args.includes('--version')) return false;
  const command = args.find((a) => COMMANDS.includes(a));
  return command === undefined || command === 'run';
}

/**
 * Relaunch this process under NODE_FLAGS when it runs without the heap flags. Returns null when the current
 * process should go on (bounded already); otherwise it does not return: on Node ≥ 22.15 the process image is replaced
 * (`process.execve`: same PID, no parent left), on older Node a child runs the agent with inherited stdio and this
 * process only relays signals and its exit code (~7 MB of its own memory; the rest of its RSS is the node binary,
 * shared with the child).
 */
export function relaunchWithHeapBound(): Promise<never> | null {
  const facts: LaunchFacts = { args: process.argv.slice(2), execArgv: process.execArgv, env: process.env, heapSizeLimit: getHeapStatistics().heap_size_limit };
  if (!needsHeapBound(facts)) {
    if (process.env[RELAUNCHED_ENV] !== undefined) dieWithRelay();
    return null;
  }
  // `--` ends node's own options, so that node never takes tailship's flags (`--env-file`) for its own.
  const args = [...NODE_FLAGS, ...process.execArgv, '--', ...process.argv.slice(1)];
  const env = { ...MALLOC_ENV, ...process.env, [RELAUNCHED_ENV]: String(process.pid) }; // the child watches this pid
  const execve = (process as unknown as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => void }).execve;
  if (typeof execve === 'function') {
    const emitWarning = process.emitWarning;
    process.emitWarning = () => {}; // execve is experimental: its warning would be the agent's first stderr line
    try {
      execve.call(process, process.execPath, [process.execPath, ...args], env);
    } catch {
      // execve(2) failed: this process is unchanged; fall back to a child
    } finally {
      process.emitWarning = emitWarning;
    }
  }
  return relayChild(args, env);
}

function relayChild(args: string[], env: NodeJS.ProcessEnv): Promise<never> {
  // Its own process group: a terminal's Ctrl-C reaches only this process, which relays it once (a second signal
  // tells the agent to leave at once, so the child must not get it twice).
  // The IPC channel is the child's lifeline: it closes when this process dies, even by SIGKILL (dieWithRelay).
  const child = spawn(process.execPath, args, { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], env, detached: true });
  for (const sig of FORWARDED_SIGNALS) process.on(sig, () => child.kill(sig));
  process.on('exit', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return new Promise<never>(() => {
    child.on('error', (e) => {
      process.stderr.write(`tailship: cannot start node with ${NODE_FLAGS.join(' ')}: ${e.message}\n`);
      process.exit(1);
    });
    child.on('exit', (code, signal) => {
      // Leave as the child left: a signal death is reported the shell's way (128 + n).
      if (signal !== null) {
        process.removeAllListeners(signal);
        process.kill(process.pid, signal);
      }
      process.exit(code ?? 1);
    });
  });
}

/**
 * In a child of relayChild: when the relaying parent is gone (killed with SIGKILL: it could not pass that on),
 * die the same way at once, as the one process the operator knows would have. The channel does not keep the
 * agent alive.
 */
function dieWithRelay(): void {
  const die = (): void => void process.kill(process.pid, 'SIGKILL');
  // Once the parent is gone this process is re-parented: watch that. The IPC channel alone is not enough: when the
  // parent dies while the child starts, the channel may never be set up (seen: an orphan, no fd 3, after a SIGKILL
  // 100-600 ms after the start).
  const parent = Number(process.env[RELAUNCHED_ENV]);
  // (After execve the marker is this process's own pid: there is no parent to watch.)
  if (parent > 1 && parent !== process.pid) {
    if (process.ppid !== parent) die();
    setInterval(() => process.ppid !== parent && die(), 200).unref();
  }
  const channel = (process as unknown as { channel?: { unref(): void } }).channel;
  if (!channel || typeof process.send !== 'function') return; // execve'd, or the channel is already gone
  process.on('disconnect', die);
  channel.unref();
  if (!process.connected) die(); // the parent died before this listener was there
}
