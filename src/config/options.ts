// SPEC §1: the command line. Every flag can also come from its env var; the flag wins.

// The flag table is in flags.ts, one value's parsing in flag-values.ts, the help text in help-text.ts.

import { TailshipError } from '../errors.js';
import type { AgentOptions } from './types.js';
import { closest } from './did-you-mean.js';
import { loadRedactKey } from '../audit/redact/redact-list.js';
import { webhookConfig } from '../inputs/webhook/config.js'; // webhook wiring
import { DEFAULT_OPTIONS, FLAGS, splitSinkList, type FlagDef } from './flags.js';
import { parseValue } from './flag-values.js';
import { UsageError } from './usage-error.js';

export { DEFAULT_OPTIONS, FLAGS, splitSinkList } from './flags.js';
export { HELP_TEXT } from './help-text.js';
export { UsageError } from './usage-error.js';

export type CommandName = 'run' | 'config' | 'status' | 'replay' | 'help' | 'version' | 'policy';

export interface Command {
  command: CommandName;
  options: AgentOptions;
  /** `--json`: machine-readable output (for `status` and `replay`). */
  json?: boolean;
  /** `--dry-run` (for `replay`): report what would be sent, send nothing. */
  dryRun?: boolean;
  /** `policy`: the arguments after the command word, parsed by src/commands/policy.ts. */
  args?: string[];
}

const COMMANDS: readonly CommandName[] = ['run', 'config', 'status', 'replay', 'help', 'version', 'policy'];

interface Given {
  value: string;
  from: string;
}

/** What the words of argv say, before any value is parsed. */
interface Scanned {
  command?: CommandName;
  json: boolean;
  dryRun: boolean;
  wantHelp: boolean;
  wantVersion: boolean;
  given: Map<FlagDef, Given[]>;
  /** `policy`: the words after it. */
  rest?: string[];
}

type Fail = (e: UsageError) => void;

/** One `--flag[=value]` word (and its value word, if it takes one): returns how many extra words it used. */
function scanFlag(argv: string[], i: number, s: Scanned, fail: Fail): number {
  const arg = argv[i]!;
  const eq = arg.indexOf('=');
  const name = eq < 0 ? arg : arg.slice(0, eq);
  const d = FLAGS.find((f) => f.flag === name);
  if (!d && ['--json', '--dry-run', '--help', '--version'].includes(name)) {
    fail(new UsageError(`${name} takes no value; write ${name} alone`, name));
    return 0;
  }
  if (!d) {
    const guess = closest(name.slice(2), [...FLAGS.map((f) => f.flag.slice(2)), 'json', 'dry-run', 'help', 'version']);
    fail(new UsageError(`unknown flag ${name}${guess ? `; did you mean --${guess}?` : ''}`, name));
    return 0;
  }
  let value: string;
  let used = 0;
  if (eq >= 0) value = arg.slice(eq + 1);
  else if (d.kind === 'bool') value = 'true';
  else {
    const next = argv[i + 1];
    if (next === undefined || (next.startsWith('--') && next.length > 2)) {
      fail(new UsageError(`${name} needs a value; write ${name} ${d.meta} (or ${name}=${d.meta})`, name));
      return 0;
    }
    value = next;
    used = 1;
  }
  const list = s.given.get(d) ?? [];
  if (list.length > 0 && d.kind !== 'list' && d.kind !== 'sink') {
    fail(new UsageError(`${name} is given more than once; give it once`, name));
    return used;
  }
  list.push({ value, from: name });
  s.given.set(d, list);
  return used;
}

/** A word that is not a flag: the command, or a mistake. */
function scanWord(arg: string, s: Scanned, fail: Fail): void {
  if (arg.startsWith('-') && arg !== '-' && arg !== '--') {
    fail(new UsageError(`unknown option ${arg}; flags are written with two dashes, e.g. --sink`, arg));
    return;
  }
  if (arg === '--') return;
  if (s.command === undefined && (COMMANDS as readonly string[]).includes(arg)) {
    s.command = arg as CommandName;
    return;
  }
  const guess = s.command === undefined ? closest(arg, COMMANDS) : undefined;
  fail(
    new UsageError(
      s.command === undefined
        ? `unknown command "${arg}"${guess ? `; did you mean ${guess}?` : ''}; commands are run, config, status, replay`
        : `unexpected argument "${arg}" after the command ${s.command}; give flag values with their flag (--flag VALUE)`,
      arg,
    ),
  );
}

function scanArgv(argv: string[], fail: Fail): Scanned {
  const s: Scanned = { json: false, dryRun: false, wantHelp: false, wantVersion: false, given: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (s.command === undefined && arg === 'policy') {
      // `policy …` has its own arguments (src/commands/policy.ts); flags before it still apply.
      s.command = 'policy';
      s.rest = argv.slice(i + 1);
      break;
    }
    if (arg === '--help' || arg === '-h') s.wantHelp = true;
    else if (arg === '--version' || arg === '-v' || arg === '-V') s.wantVersion = true;
    else if (arg === '--json') s.json = true;
    else if (arg === '--dry-run') s.dryRun = true;
    else if (arg.startsWith('--') && arg.length > 2) i += scanFlag(argv, i, s, fail);
    else scanWord(arg, s, fail);
  }
  return s;
}

/** Every flag's value: from argv, else from its env var, else the default. */
function optionsOf(given: Map<FlagDef, Given[]>, env: NodeJS.ProcessEnv, fail: Fail): AgentOptions {
  const options: AgentOptions = { ...DEFAULT_OPTIONS, envFiles: [] };
  const set = <K extends keyof AgentOptions>(k: K, v: unknown) => {
    options[k] = v as AgentOptions[K];
  };
  for (const d of FLAGS) {
    try {
      const g = given.get(d);
      if (d.kind === 'sink') {
        // --sink is repeatable (SPEC §10): `sinks` is every one, `sink` the first
        const all = g ? g.map((x) => ({ value: x.value, from: x.from })) : env[d.env] ? splitSinkList(env[d.env]!).map((value) => ({ value, from: d.env })) : [];
        if (all.length > 0) {
          const sinks = all.map((x) => parseValue(d, x.value, x.from) as string);
          set('sinks', sinks);
          set('sink', sinks[0]);
        }
        continue;
      }
      if (g) {
        if (d.kind === 'list') set(d.key, g.map((x) => x.value).filter((s) => s !== ''));
        else set(d.key, parseValue(d, g[0]!.value, g[0]!.from));
        if (d.kind === 'list' && g.some((x) => x.value.trim() === '')) {
          throw new UsageError(`${d.flag} is empty; give a file, e.g. ${d.flag} ./demo.env`, d.flag);
        }
        continue;
      }
      const fromEnv = env[d.env];
      if (fromEnv !== undefined && fromEnv !== '') set(d.key, parseValue(d, fromEnv, d.env));
    } catch (e) {
      if (e instanceof UsageError) fail(e);
      else throw e;
    }
  }
  return options;
}

/** The checks across flags, run once every value parsed: the first problem, or undefined. */
function crossCheck(options: AgentOptions): UsageError | undefined {
  if (options.redactKey !== undefined) {
    // a key that cannot be read is a config error at start, not a failure at the first secret
    try {
      loadRedactKey(options.redactKey);
    } catch (e) {
      if (!(e instanceof TailshipError)) throw e;
      return new UsageError(`${e.message}; ${e.fix ?? ''}`, '--redact-key');
    }
  }
  // A batch that cannot fill under the in-flight bound would only ever leave on --batch-max-wait. A line longer
  // than the bound is fine: the budget is looked at before each read, so a line is never held back by it.
  if (options.maxInflightBytes < options.batchMaxBytes) {
    return new UsageError(
      `--max-inflight-bytes (${options.maxInflightBytes}) is smaller than --batch-max-bytes (${options.batchMaxBytes}), so no batch could fill while reading waits; raise --max-inflight-bytes to at least ${options.batchMaxBytes}`,
      '--max-inflight-bytes',
    );
  }
  // webhook wiring: TLS flags that go together, plain HTTP only on loopback (SPEC §8)
  try {
    webhookConfig(options);
  } catch (e) {
    return new UsageError((e as Error).message, '--webhook-listen');
  }
  return undefined;
}

/**
 * Parse argv (without `node` and the script) and the TAILSHIP_* env into a command and its options.
 * Throws UsageError on any mistake, except that `--help`/`--version` always succeed.
 */
export function parseCommandLine(argv: string[], env: NodeJS.ProcessEnv): Command {
  let firstError: UsageError | undefined;
  const fail: Fail = (e) => {
    firstError ??= e;
  };
  const s = scanArgv(argv, fail);
  const options = optionsOf(s.given, env, fail);
  if (!firstError) firstError = crossCheck(options);

  const { command } = s;
  if (s.wantHelp || command === 'help') return { command: 'help', options: firstError ? { ...DEFAULT_OPTIONS, envFiles: [] } : options };
  if (s.wantVersion || command === 'version') return { command: 'version', options: firstError ? { ...DEFAULT_OPTIONS, envFiles: [] } : options };
  if (firstError) throw firstError;
  const out: Command = { command: command ?? 'run', options };
  if (s.json) out.json = true;
  if (s.dryRun) out.dryRun = true;
  if (s.rest) out.args = s.rest;
  return out;
}
