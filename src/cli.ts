#!/usr/bin/env -S node --max-old-space-size=100 --max-semi-space-size=4
import { readFileSync } from 'node:fs';
import { describeConfig, formatProblem, HELP_TEXT, NO_INPUT_HELP, parseCommandLine, resolveConfig, UsageError } from './config/index.js';
import { createLogger } from './observe/log.js';
import { formatStatus, readStatus } from './status.js';

let ranAgent = false;

/** argv + env → run | config | status; maps outcomes to exit codes (0 ok, 1 fatal, 2 usage or config). */
async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let cmd;
  try {
    cmd = parseCommandLine(argv, env);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`tailship: ${e.message}\nRun 'tailship --help' for the flags.\n`);
      return 2;
    }
    throw e;
  }
  const { options } = cmd;
  switch (cmd.command) {
    case 'help':
      process.stdout.write(HELP_TEXT.endsWith('\n') ? HELP_TEXT : `${HELP_TEXT}\n`);
      return 0;
    case 'version':
      process.stdout.write(`tailship ${version()}\n`);
      return 0;
    case 'status': {
      const s = await readStatus(options.stateDir);
      process.stdout.write(cmd.json ? `${JSON.stringify(s, null, 2)}\n` : formatStatus(s));
      return 0;
    }
    case 'config':
    case 'run':
      break;
  }
  const resolved = await resolveConfig(options, env);
  const logger = createLogger(options.logLevel);
  for (const n of resolved.notes) logger.debug(n);
  for (const w of resolved.warnings) logger.warn(formatProblem(w));
  if (cmd.command === 'config') {
    process.stdout.write(`${JSON.stringify(describeConfig(options, resolved, env), null, 2)}\n`);
    for (const p of resolved.problems) process.stderr.write(`error: ${formatProblem(p)}\n`);
    return resolved.problems.length > 0 ? 2 : 0;
  }
  if (resolved.problems.length > 0) {
    for (const p of resolved.problems) process.stderr.write(`error: ${formatProblem(p)}\n`);
    process.stderr.write(`tailship: ${resolved.problems.length} configuration problem(s); nothing was started. Check with 'tailship config'.\n`);
    return 2;
  }
  if (resolved.inputs.length === 0) {
    process.stderr.write(`tailship: ${NO_INPUT_HELP}\n`);
    return 2;
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
  // First signal: graceful stop. Second: the agent persists what is acknowledged, and we leave now.
  const onSignal = (): void => {
    if (agent.stop() === 'exit-now') process.exit(0);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // SIGHUP re-resolves the inputs (SPEC §11), as the watched config sources do; it never stops the agent.
  process.on('SIGHUP', () => void agent.reload('SIGHUP'));
  return agent.done;
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
