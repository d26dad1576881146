// SPEC §1: the command line. Every flag can also come from its env var; the flag wins.

import type { AgentOptions } from './types.js';
import { closest } from './env-convention.js';

export type CommandName = 'run' | 'config' | 'status' | 'help' | 'version';

export interface Command {
  command: CommandName;
  options: AgentOptions;
  /** `--json`: machine-readable output (for `status`). */
  json?: boolean;
}

/** A mistake on the command line or in a TAILSHIP_* variable. The CLI prints the message and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    /** The flag or env var at fault. */
    readonly flag?: string,
  ) {
    super(message);
  }
}

type Kind = 'path' | 'optpath' | 'list' | 'bool' | 'count' | 'bytes' | 'ms' | 'startAt' | 'listen' | 'sink' | 'level';

interface FlagDef {
  flag: string;
  env: string;
  key: keyof AgentOptions;
  kind: Kind;
  meta: string;
  help: string;
}

export const DEFAULT_OPTIONS: Readonly<AgentOptions> = Object.freeze({
  envFiles: [],
  manifests: undefined,
  hostRoot: '',
  stateDir: './.tailship-state',
  sink: 'file:./tailship-out',
  listen: '127.0.0.1:2020',
  startAt: 'beginning',
  backfill: false,
  maxLineBytes: 16_777_216,
  batchMaxEvents: 4096,
  batchMaxBytes: 3_145_728,
  batchMaxWait: 1000,
  shutdownGrace: 10_000,
  logLevel: 'info',
  maxInflightBytes: 16_777_216, // 16 MiB (= --max-line-bytes): with the runtime flags, RSS ~120 MB with the store down
  exitWhenIdle: false,
  inputDownGrace: 60_000,
}) as AgentOptions;

export const FLAGS: readonly FlagDef[] = [
  { flag: '--env-file', env: 'TAILSHIP_ENV_FILE', key: 'envFiles', kind: 'list', meta: 'FILE', help: 'read aliyun_logs_* variables from a KEY=VALUE file; repeatable (env: comma-separated)' },
  { flag: '--manifests', env: 'TAILSHIP_MANIFESTS', key: 'manifests', kind: 'path', meta: 'DIR', help: 'find aliyun_logs_* in the container env of the static pod manifests (*.yaml, *.yml, *.json) in DIR' },
  { flag: '--host-root', env: 'TAILSHIP_HOST_ROOT', key: 'hostRoot', kind: 'optpath', meta: 'DIR', help: "put before every host path (where the host's / is mounted, e.g. /host)" },
  { flag: '--state-dir', env: 'TAILSHIP_STATE_DIR', key: 'stateDir', kind: 'path', meta: 'DIR', help: 'checkpoints and spool' },
  { flag: '--sink', env: 'TAILSHIP_SINK', key: 'sink', kind: 'sink', meta: 'URI', help: 'where batches go: file:DIR, stdout:, http(s)://…, sls://ENDPOINT, sls+http://…' },
  { flag: '--listen', env: 'TAILSHIP_LISTEN', key: 'listen', kind: 'listen', meta: 'HOST:PORT', help: 'health and metrics server (/healthz, /readyz, /metrics); off disables it' },
  { flag: '--start-at', env: 'TAILSHIP_START_AT', key: 'startAt', kind: 'startAt', meta: 'beginning|end', help: 'where to start in a file that has no checkpoint yet' },
  { flag: '--backfill', env: 'TAILSHIP_BACKFILL', key: 'backfill', kind: 'bool', meta: '', help: 'on a first start, also read the rotated backups that exist, oldest first' },
  { flag: '--max-line-bytes', env: 'TAILSHIP_MAX_LINE_BYTES', key: 'maxLineBytes', kind: 'bytes', meta: 'N', help: 'a longer line is shipped cut to N bytes with tag __truncated__=true' },
  { flag: '--batch-max-events', env: 'TAILSHIP_BATCH_MAX_EVENTS', key: 'batchMaxEvents', kind: 'count', meta: 'N', help: 'events in one batch at most' },
  { flag: '--batch-max-bytes', env: 'TAILSHIP_BATCH_MAX_BYTES', key: 'batchMaxBytes', kind: 'bytes', meta: 'N', help: 'raw bytes of the events in one batch at most' },
  { flag: '--batch-max-wait', env: 'TAILSHIP_BATCH_MAX_WAIT', key: 'batchMaxWait', kind: 'ms', meta: 'MS', help: 'a partial batch is sent after this long' },
  { flag: '--shutdown-grace', env: 'TAILSHIP_SHUTDOWN_GRACE', key: 'shutdownGrace', kind: 'ms', meta: 'MS', help: 'on SIGTERM/SIGINT, wait this long for in-flight batches' },
  { flag: '--log-level', env: 'TAILSHIP_LOG_LEVEL', key: 'logLevel', kind: 'level', meta: 'LEVEL', help: "the agent's own logs (JSON on stderr): fatal, error, warn, info, debug, trace, silent" },
  { flag: '--max-inflight-bytes', env: 'TAILSHIP_MAX_INFLIGHT_BYTES', key: 'maxInflightBytes', kind: 'bytes', meta: 'N', help: 'bytes read but not yet acknowledged; reading pauses above it' },
  { flag: '--input-down-grace', env: 'TAILSHIP_INPUT_DOWN_GRACE', key: 'inputDownGrace', kind: 'ms', meta: 'MS', help: "/readyz is 503 once an input's file is missing or unreadable for this long (SPEC §7)" },
  { flag: '--exit-when-idle', env: 'TAILSHIP_EXIT_WHEN_IDLE', key: 'exitWhenIdle', kind: 'bool', meta: '', help: 'run: exit 0 once every input is read to its end and acknowledged (demos, tests)' },
];

const COMMANDS: readonly CommandName[] = ['run', 'config', 'status', 'help', 'version'];
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const SINK_SCHEMES = ['file:', 'stdout:', 'http://', 'https://', 'sls://', 'sls+http://'];
const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

function defaultText(d: FlagDef): string {
  const v = DEFAULT_OPTIONS[d.key];
  if (d.kind === 'bool') return 'off';
  if (v === undefined || (Array.isArray(v) && v.length === 0)) return 'none';
  if (v === '') return "'' (none)";
  return String(v);
}

// ClickHouse and syslog stores (issue 14, SPEC §10): a separate line, so merges with other sink schemes stay easy.
SINK_SCHEMES.push('clickhouse+http://', 'clickhouse+https://', 'syslog+tcp://', 'syslog+tls://');

function buildHelp(): string {
  const rows = FLAGS.map((d) => {
    const left = `  ${d.flag}${d.meta ? ' ' + d.meta : ''}`;
    const env = d.kind === 'bool' ? `${d.env}=true` : d.env;
    return `${left.padEnd(34)}${d.help}\n${' '.repeat(34)}[${env}] (default: ${defaultText(d)})`;
  });
  return [
    'tailship: tail log files and ship them; a vendor-neutral drop-in for logtail-ds (aliyun_logs_* configuration).',
    '',
    'Usage: tailship [run|config|status] [flags]',
    '',
    'Commands:',
    '  run (default)                   discover the configuration, tail, ship; stops cleanly on SIGTERM/SIGINT',
    '  config                          print the resolved configuration as JSON (secrets masked); exit 2 if invalid',
    '  status [--json]                 print per-file progress from the state dir',
    '  --help, -h                      this text',
    '  --version, -v                   the version',
    '',
    'Flags (each also from its env var in brackets; the flag wins; --flag VALUE and --flag=VALUE both work):',
    ...rows,
    `${'  --json'.padEnd(34)}status: print JSON`,
    '',
    'Sizes (N) take an optional K, M or G suffix (powers of 1024), e.g. 16M. Durations (MS) take ms, s or m, e.g. 10s.',
    '',
    'Inputs: set aliyun_logs_{key}=/abs/path/to/file.log (plus _tags, _product, _jsonfile, _logstore, … suffixes)',
    'in the env, in an --env-file, or in the container env of a static pod manifest in --manifests.',
    'TAILSHIP_TAGS=k1=v1,k2=v2 adds tags to every input. Check with: tailship config',
  ].join('\n');
}

/** The `--help` text: every command and flag, with its env var and default. */
export const HELP_TEXT: string = buildHelp();

/** Never echo a sink's credentials back in an error. */
function safeValue(d: FlagDef, v: string): string {
  if (d.kind !== 'sink') return v;
  return v.replace(/\/\/[^/@]*@/, '//***@').replace(/\?.*$/, '?…');
}

function parseValue(d: FlagDef, raw: string, from: string): AgentOptions[keyof AgentOptions] {
  const fail = (what: string, fix: string): never => {
    throw new UsageError(`${from}: ${JSON.stringify(safeValue(d, raw))} ${what}; ${fix}`, from);
  };
  const example = d.env === from ? `${d.env}=` : `${d.flag} `;
  switch (d.kind) {
    case 'path':
      if (raw.trim() === '') fail('is empty', `give a path, e.g. ${example}${d.key === 'manifests' ? '/etc/kubernetes/manifests' : '/var/lib/tailship'}`);
      return raw;
    case 'optpath':
      return raw;
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    case 'bool': {
      const s = raw.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(s)) return true;
      if (['false', '0', 'no', 'off', ''].includes(s)) return false;
      return fail('is not a boolean', `write ${d.env}=true or false`);
    }
    case 'count':
    case 'bytes':
    case 'ms': {
      const s = raw.trim();
      const m = d.kind === 'bytes' ? /^(\d+)\s*([kmg]?)(i?b)?$/i.exec(s) : d.kind === 'ms' ? /^(\d+)\s*(ms|s|m)?$/i.exec(s) : /^(\d+)$/.exec(s);
      const unit = m?.[2]?.toLowerCase() ?? '';
      const mult = d.kind === 'bytes' ? SIZE_UNITS[unit]! : d.kind === 'ms' ? ({ '': 1, ms: 1, s: 1000, m: 60_000 } as Record<string, number>)[unit]! : 1;
      const n = m ? Number(m[1]) * mult : NaN;
      const min = d.kind === 'ms' ? 0 : 1;
      const hint =
        d.kind === 'bytes' ? 'a whole number of bytes ≥ 1, optionally with K, M or G (e.g. 16M)' : d.kind === 'ms' ? 'a whole number of milliseconds ≥ 0 (or with s / m, e.g. 10s)' : 'a whole number ≥ 1';
      if (!Number.isSafeInteger(n) || n < min) fail(`is not ${hint}`, `e.g. ${example}${defaultText(d)}`);
      return n;
    }
    case 'startAt':
      if (raw !== 'beginning' && raw !== 'end') fail('is not beginning or end', `write ${example}beginning or ${example}end`);
      return raw;
    case 'level':
      if (!LEVELS.includes(raw)) fail(`is not a log level`, `use one of ${LEVELS.join(', ')}`);
      return raw;
    case 'listen': {
      if (raw === 'off') return raw;
      const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]*):(\d{1,5})$/.exec(raw);
      if (!m) fail('is not off or HOST:PORT', `e.g. ${example}127.0.0.1:2020 (or [::1]:2020, or off)`);
      if (m![1] === '') fail('has no host', `name the address, e.g. ${example}0.0.0.0:${m![2]} to listen on every interface`);
      if (Number(m![2]) > 65535) fail('has a port above 65535', `use a port from 0 to 65535 (0 picks a free one)`);
      return raw;
    }
    case 'sink': {
      const s = raw.trim();
      if (!SINK_SCHEMES.some((p) => s.startsWith(p))) fail('is not a sink URI', `use file:DIR, stdout:, http://…, https://…, sls://ENDPOINT or sls+http://…`);
      if (s === 'file:') fail('names no directory', `e.g. ${example}file:./tailship-out`);
      return s;
    }
  }
}

interface Given {
  value: string;
  from: string;
}

/**
 * Parse argv (without `node` and the script) and the TAILSHIP_* env into a command and its options.
 * Throws UsageError on any mistake, except that `--help`/`--version` always succeed.
 */
export function parseCommandLine(argv: string[], env: NodeJS.ProcessEnv): Command {
  let command: CommandName | undefined;
  let json = false;
  let wantHelp = false;
  let wantVersion = false;
  const given = new Map<FlagDef, Given[]>();
  let firstError: UsageError | undefined;
  const fail = (e: UsageError) => {
    firstError ??= e;
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      wantHelp = true;
      continue;
    }
    if (arg === '--version' || arg === '-v' || arg === '-V') {
      wantVersion = true;
      continue;
    }
    if (arg === '--json') {
      json = true;
      continue;
    }
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg : arg.slice(0, eq);
      const d = FLAGS.find((f) => f.flag === name);
      if (!d && ['--json', '--help', '--version'].includes(name)) {
        fail(new UsageError(`${name} takes no value; write ${name} alone`, name));
        continue;
      }
      if (!d) {
        const guess = closest(name.slice(2), [...FLAGS.map((f) => f.flag.slice(2)), 'json', 'help', 'version']);
        fail(new UsageError(`unknown flag ${name}${guess ? `; did you mean --${guess}?` : ''}`, name));
        continue;
      }
      let value: string;
      if (eq >= 0) value = arg.slice(eq + 1);
      else if (d.kind === 'bool') value = 'true';
      else {
        const next = argv[i + 1];
        if (next === undefined || (next.startsWith('--') && next.length > 2)) {
          fail(new UsageError(`${name} needs a value; write ${name} ${d.meta} (or ${name}=${d.meta})`, name));
          continue;
        }
        value = next;
        i++;
      }
      const list = given.get(d) ?? [];
      if (list.length > 0 && d.kind !== 'list') {
        fail(new UsageError(`${name} is given more than once; give it once`, name));
        continue;
      }
      list.push({ value, from: name });
      given.set(d, list);
      continue;
    }
    if (arg.startsWith('-') && arg !== '-' && arg !== '--') {
      fail(new UsageError(`unknown option ${arg}; flags are written with two dashes, e.g. --sink`, arg));
      continue;
    }
    if (arg === '--') continue;
    if (command === undefined && (COMMANDS as readonly string[]).includes(arg)) {
      command = arg as CommandName;
      continue;
    }
    const guess = command === undefined ? closest(arg, COMMANDS) : undefined;
    fail(
      new UsageError(
        command === undefined
          ? `unknown command "${arg}"${guess ? `; did you mean ${guess}?` : ''}; commands are run, config, status`
          : `unexpected argument "${arg}" after the command ${command}; give flag values with their flag (--flag VALUE)`,
        arg,
      ),
    );
  }

  const options: AgentOptions = { ...DEFAULT_OPTIONS, envFiles: [] };
  const set = <K extends keyof AgentOptions>(k: K, v: unknown) => {
    options[k] = v as AgentOptions[K];
  };
  for (const d of FLAGS) {
    try {
      const g = given.get(d);
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

  if (!firstError) {
    // A batch or a line that cannot fit under the in-flight bound would stall reading for good.
    const need = Math.max(options.batchMaxBytes, options.maxLineBytes);
    if (options.maxInflightBytes < need) {
      const which = options.batchMaxBytes >= options.maxLineBytes ? '--batch-max-bytes' : '--max-line-bytes';
      fail(
        new UsageError(
          `--max-inflight-bytes (${options.maxInflightBytes}) is smaller than ${which} (${need}), so reading would stall; raise --max-inflight-bytes to at least ${need}`,
          '--max-inflight-bytes',
        ),
      );
    }
  }

  if (wantHelp || command === 'help') return { command: 'help', options: firstError ? { ...DEFAULT_OPTIONS, envFiles: [] } : options };
  if (wantVersion || command === 'version') return { command: 'version', options: firstError ? { ...DEFAULT_OPTIONS, envFiles: [] } : options };
  if (firstError) throw firstError;
  const out: Command = { command: command ?? 'run', options };
  if (json) out.json = true;
  return out;
}
