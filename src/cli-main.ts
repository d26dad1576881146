// The CLI proper (argv + env → run | config | status | …), loaded by cli.ts once the heap is bounded.
import { readFileSync, statSync } from 'node:fs';
import {
  type AgentOptions,
  type Command,
  describeConfig,
  formatProblem,
  HELP_TEXT,
  NO_INPUT_HELP,
  parseCommandLine,
  resolveConfig,
  type ResolvedConfig,
  UsageError,
} from './config/index.js';
import { ErrorCodes, TailshipError } from './errors.js';
import { createLogger, type Logger } from './observe/log.js';
import { preflight } from './preflight/index.js';
import { waitForInputs } from './preflight/wait-for-inputs.js';
import { acquireStateLock, checkStateDirWritable, type StateLock } from './state/lock.js';
import { formatStatus, readStatus } from './status.js';

let ranAgent = false;

/** argv + env → run | config | status | replay; maps outcomes to exit codes (0 ok, 1 fatal, 2 usage or config). */
async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  // webhook wiring: a command with flags of its own (SPEC §8)
  if (argv[0] === 'webhook-kubeconfig') {
    const { webhookKubeconfigCommand } = await import('./commands/webhook-kubeconfig.js');
    return webhookKubeconfigCommand(argv.slice(1), process.stdout, process.stderr);
  }
  const cmd = parseOrExplain(argv, env);
  if (typeof cmd === 'number') return cmd;
  switch (cmd.command) {
    case 'help':
      process.stdout.write(HELP_TEXT.endsWith('\n') ? HELP_TEXT : `${HELP_TEXT}\n`);
      return 0;
    case 'version':
      process.stdout.write(`tailship ${version()}\n`);
      return 0;
    case 'status':
      return statusCommand(cmd);
    case 'replay':
      return (await import('./deliver/replay-command.js')).replayCommand(cmd, env);
    case 'policy': {
      const { runPolicyCommand } = await import('./commands/policy.js');
      return runPolicyCommand(cmd.args ?? []);
    }
    case 'config':
      return configCommand(cmd.options, env);
    case 'run':
      return runCommand(cmd.options, env);
  }
}

/** The parsed command line, or exit 2 after saying what is wrong with it. */
function parseOrExplain(argv: string[], env: NodeJS.ProcessEnv): Command | number {
  try {
    return parseCommandLine(argv, env);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`tailship: ${e.message}\nRun 'tailship --help' for the flags.\n`);
      return 2;
    }
    throw e;
  }
}

async function statusCommand(cmd: Command): Promise<number> {
  // Reads only, and takes no lock: status works while an agent runs (SPEC §11).
  const missing = stateDirMissing(cmd.options.stateDir);
  if (missing) return printError(missing);
  const s = await readStatus(cmd.options.stateDir);
  process.stdout.write(cmd.json ? `${JSON.stringify(s, null, 2)}\n` : formatStatus(s));
  return 0;
}

/** The resolved configuration with the preflight's problems and warnings added, and whether it has no input. */
async function checkedConfig(
  options: AgentOptions,
  env: NodeJS.ProcessEnv,
  command: 'config' | 'run',
): Promise<{ resolved: ResolvedConfig; noInput: boolean }> {
  const resolved = await resolveConfig(options, env);
  // `config` fails exactly where `run` would (issue 10 item 5): both run the same checks.
  const pre = await preflight(options, resolved, env, command);
  resolved.problems.push(...pre.problems);
  resolved.warnings.push(...pre.warnings);
  return { resolved, noInput: pre.noInput };
}

async function configCommand(options: AgentOptions, env: NodeJS.ProcessEnv): Promise<number> {
  const { resolved } = await checkedConfig(options, env, 'config');
  // A human reads this: warnings and errors as text lines on stderr, the configuration as JSON on stdout.
  process.stdout.write(`${JSON.stringify(describeConfig(options, resolved, env), null, 2)}\n`);
  for (const w of resolved.warnings) process.stderr.write(`warning: ${formatProblem(w)}\n`);
  for (const p of resolved.problems) process.stderr.write(`error: ${formatProblem(p)}\n`);
  return resolved.problems.length > 0 ? 2 : 0;
}

async function runCommand(options: AgentOptions, env: NodeJS.ProcessEnv): Promise<number> {
  const { resolved, noInput } = await checkedConfig(options, env, 'run');
  const logger = createLogger(options.logLevel);
  for (const n of resolved.notes) logger.debug(n);
  for (const w of resolved.warnings) logger.warn(formatProblem(w));
  if (resolved.problems.length > 0) {
    for (const p of resolved.problems) process.stderr.write(`error: ${formatProblem(p)}\n`);
    if (noInput && !options.waitForInputs) process.stderr.write(`tailship: ${NO_INPUT_HELP}\n`);
    process.stderr.write(`tailship: ${resolved.problems.length} configuration problem(s); nothing was started. Check with 'tailship config'.\n`);
    return 2;
  }
  // One agent per state dir, and a state dir that takes writes, before anything is read (SPEC §11).
  let lock: StateLock;
  try {
    lock = await acquireStateLockWithin(options.stateDir, LOCK_WAIT_MS);
    checkStateDirWritable(options.stateDir);
  } catch (e) {
    if (e instanceof TailshipError) return printError(e);
    throw e;
  }
  process.on('exit', () => lock.release());
  const code = await runAgentUnderLock(options, env, logger, resolved, noInput);
  lock.release();
  return code;
}

/** Waits for inputs when there were none, then runs the agent until it is done; the caller holds the state lock. */
async function runAgentUnderLock(
  options: AgentOptions,
  env: NodeJS.ProcessEnv,
  logger: Logger,
  resolved: ResolvedConfig,
  noInput: boolean,
): Promise<number> {
  const signals = onSignals(logger);
  if (noInput) {
    const waited = await waitForInputs(options, env, logger, { stopped: signals.first });
    if (!waited) return 0;
    resolved = waited;
  }
  const { startAgent } = await import('./agent.js');
  let agent;
  try {
    agent = startAgent(options, resolved.inputs, env, logger);
  } catch (e) {
    // Construction errors are configuration mistakes (a bad --sink URI, an unreadable CA file…).
    process.stderr.write(`tailship: ${(e as Error).message}\n`);
    return 2;
  }
  ranAgent = true;
  signals.attach(agent);
  return agent.done;
}

/**
 * SIGTERM/SIGINT: the first drains (agent.stop()), the second stops at once: the agent persists what is
 * acknowledged and the process exits 128+signal (143, 130), saying so, never silently with 0.
 */
type Stoppable = { stop(): void; reload?(reason: string): Promise<void> };

function onSignals(logger: Logger): { first: Promise<void>; attach(agent: Stoppable): void } {
  let agent: Stoppable | undefined;
  let count = 0;
  let firstSeen!: () => void;
  const first = new Promise<void>((r) => (firstSeen = r));
  const on = (signal: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      logger.info({ signal }, `${signal}: stopping; in-flight batches are drained first (send ${signal} again to stop at once)`);
      firstSeen();
      agent?.stop();
      return;
    }
    const code = signal === 'SIGINT' ? 130 : 143;
    logger.warn({ signal, exitCode: code }, `second ${signal}: stopping at once; batches not yet acknowledged are read again after the restart`);
    agent?.stop(); // persists the acknowledged progress synchronously
    process.exit(code);
  };
  process.on('SIGTERM', on);
  process.on('SIGINT', on);
  // SIGHUP re-resolves the inputs (SPEC §11), as the watched config sources do; it never stops the agent.
  process.on('SIGHUP', () => void agent?.reload?.('SIGHUP'));
  return {
    first,
    attach(a) {
      agent = a;
      if (count > 0) a.stop();
    },
  };
}

/** A missing (or non-directory) state dir for `status`: "no checkpoints" would hide a mistyped path. */
function stateDirMissing(dir: string): TailshipError | undefined {
  try {
    if (statSync(dir).isDirectory()) return undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return undefined; // readStatus reports it
  }
  return new TailshipError(ErrorCodes.STATE_DIR_MISSING, `the state dir ${dir} does not exist (or is not a directory), so there is no status to show`, 'give the --state-dir (TAILSHIP_STATE_DIR) that the agent runs with');
}

/** `tailship: CODE: message` and the fix, exit 2. */
function printError(e: TailshipError): number {
  process.stderr.write(`tailship: ${e.code}: ${e.message}\n${e.fix ? `  fix: ${e.fix}\n` : ''}`);
  return 2;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
    // A stopped agent leaves at once: stray handles (keep-alive sockets, watchers) must not keep it alive.
    if (ranAgent) setImmediate(() => process.exit(code));
  },
  (e: Error) => {
    process.stderr.write(`tailship: fatal: ${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);

/**
 * A restart right after a kill may find the old agent still on its way out (on Node < 22.15 the agent runs as the
 * relaunched child of the killed process and follows it within moments; a container runtime may restart faster
 * than the old process ends): wait that long for the lock before saying that another agent holds it.
 */
const LOCK_WAIT_MS = 5000;

async function acquireStateLockWithin(stateDir: string, waitMs: number): Promise<StateLock> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return acquireStateLock(stateDir);
    } catch (e) {
      if (!(e instanceof TailshipError) || e.code !== ErrorCodes.STATE_LOCKED || Date.now() >= deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
