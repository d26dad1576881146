// SPEC §1: the command line. Every flag can also come from its env var; the flag wins.

import { maskSinkUri } from '../deliver/mask-uri.js';
import { ErrorCodes, TailshipError } from '../errors.js';
import type { AgentOptions } from './types.js';
import { closest } from './env-convention.js';
import { loadRedactKey, parseRedactList } from '../audit/redact/redact-list.js';
import { webhookConfig } from '../inputs/webhook/config.js'; // webhook wiring
import { parseHostPort } from '../net/host-port.js';

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

/** A mistake on the command line or in a TAILSHIP_* variable. The CLI prints the message and exits 2. */
export class UsageError extends TailshipError {
  override name = 'UsageError';
  constructor(
    message: string,
    /** The flag or env var at fault. */
    readonly flag?: string,
  ) {
    super(ErrorCodes.CONFIG_FLAG, message);
  }
}

type Kind = 'path' | 'optpath' | 'list' | 'bool' | 'count' | 'bytes' | 'ms' | 'startAt' | 'listen' | 'sink' | 'level' | 'redact' | 'bytes0' | 'key';

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
  sinks: ['file:./tailship-out'],
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
  auditPolicy: undefined,
  waitForInputs: false,
  redact: 'off',
  redactKey: undefined,
  maxEventBytes: 0,
  // webhook receiver (SPEC §8)
  webhookListen: 'off',
  webhookTlsCert: undefined,
  webhookTlsKey: undefined,
  webhookClientCa: undefined,
  webhookKey: 'audit-webhook',
  webhookTimeout: 30_000,
  inputDownGrace: 60_000,
}) as AgentOptions;

export const FLAGS: readonly FlagDef[] = [
  { flag: '--env-file', env: 'TAILSHIP_ENV_FILE', key: 'envFiles', kind: 'list', meta: 'FILE', help: 'read aliyun_logs_* variables from a KEY=VALUE file; repeatable (env: comma-separated)' },
  { flag: '--manifests', env: 'TAILSHIP_MANIFESTS', key: 'manifests', kind: 'path', meta: 'DIR', help: 'find aliyun_logs_* in the container env of the static pod manifests (*.yaml, *.yml, *.json) in DIR' },
  { flag: '--host-root', env: 'TAILSHIP_HOST_ROOT', key: 'hostRoot', kind: 'optpath', meta: 'DIR', help: "put before every host path (where the host's / is mounted, e.g. /host)" },
  { flag: '--state-dir', env: 'TAILSHIP_STATE_DIR', key: 'stateDir', kind: 'path', meta: 'DIR', help: 'checkpoints and spool' },
  { flag: '--sink', env: 'TAILSHIP_SINK', key: 'sink', kind: 'sink', meta: 'URI', help: 'where batches go: file:DIR, stdout:, http(s)://…, sls://ENDPOINT, elasticsearch+http(s)://…/INDEX, loki+…, otlp+…; repeatable: every sink gets every event (env: comma-separated)' },
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
  { flag: '--audit-policy', env: 'TAILSHIP_AUDIT_POLICY', key: 'auditPolicy', kind: 'path', meta: 'FILE', help: 'apply an audit.k8s.io Policy (YAML/JSON, v1 or v1beta1) to the events of JSON inputs, as kube-apiserver does' },
  { flag: '--wait-for-inputs', env: 'TAILSHIP_WAIT_FOR_INPUTS', key: 'waitForInputs', kind: 'bool', meta: '', help: 'run: with no input configured, wait for one (re-checked every 10 s; /readyz 503) instead of exiting 2' },
  { flag: '--redact', env: 'TAILSHIP_REDACT', key: 'redact', kind: 'redact', meta: 'LIST', help: 'redact Secret data and tokens in audit events: secrets, tokens (comma list), all, or off' },
  { flag: '--redact-key', env: 'TAILSHIP_REDACT_KEY', key: 'redactKey', kind: 'path', meta: 'FILE', help: 'redacted values become hmac-sha256:HEX keyed with this file (less one trailing newline) instead of [REDACTED]' },
  { flag: '--max-event-bytes', env: 'TAILSHIP_MAX_EVENT_BYTES', key: 'maxEventBytes', kind: 'bytes0', meta: 'N', help: 'trim a larger event (managedFields, then bodies, marked with size and sha256), tagged __trimmed__; 0 = off' },
  // webhook receiver (SPEC §8)
  { flag: '--webhook-listen', env: 'TAILSHIP_WEBHOOK_LISTEN', key: 'webhookListen', kind: 'listen', meta: 'HOST:PORT', help: "receive the API server's audit webhook (EventList POSTs) here; HTTPS with --webhook-tls-*; off disables it" },
  { flag: '--webhook-tls-cert', env: 'TAILSHIP_WEBHOOK_TLS_CERT', key: 'webhookTlsCert', kind: 'path', meta: 'FILE', help: 'webhook server certificate (PEM), re-read when it changes' },
  { flag: '--webhook-tls-key', env: 'TAILSHIP_WEBHOOK_TLS_KEY', key: 'webhookTlsKey', kind: 'path', meta: 'FILE', help: 'webhook server private key (PEM)' },
  { flag: '--webhook-client-ca', env: 'TAILSHIP_WEBHOOK_CLIENT_CA', key: 'webhookClientCa', kind: 'path', meta: 'FILE', help: "require a client certificate signed by this CA (the API server's)" },
  { flag: '--webhook-key', env: 'TAILSHIP_WEBHOOK_KEY', key: 'webhookKey', kind: 'key', meta: 'KEY', help: 'input key of the webhook events (logstore; aliyun_logs_{KEY}_tags, _product… apply)' },
  { flag: '--webhook-timeout', env: 'TAILSHIP_WEBHOOK_TIMEOUT', key: 'webhookTimeout', kind: 'ms', meta: 'MS', help: 'a webhook request must arrive whole within this long (slow clients are cut)' },
  { flag: '--input-down-grace', env: 'TAILSHIP_INPUT_DOWN_GRACE', key: 'inputDownGrace', kind: 'ms', meta: 'MS', help: "/readyz is 503 once an input's file is missing or unreadable for this long (SPEC §7)" },
  { flag: '--exit-when-idle', env: 'TAILSHIP_EXIT_WHEN_IDLE', key: 'exitWhenIdle', kind: 'bool', meta: '', help: 'run: exit 0 once every input is read to its end and acknowledged (demos, tests)' },
];

const COMMANDS: readonly CommandName[] = ['run', 'config', 'status', 'replay', 'help', 'version', 'policy'];
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const SINK_SCHEMES = ['file:', 'stdout:', 'http://', 'https://', 'sls://', 'sls+http://'];
// several sinks (SPEC §10): the stores of issue 14, and how a comma-separated TAILSHIP_SINK is split
const MORE_SINK_SCHEMES = ['elasticsearch+http://', 'elasticsearch+https://', 'opensearch+http://', 'opensearch+https://', 'loki+http://', 'loki+https://', 'otlp+http://', 'otlp+https://'];
SINK_SCHEMES.push(...MORE_SINK_SCHEMES);
/** A comma starts a new sink only where a sink URI begins: `?redact=secrets,tokens` stays in its URI. */
export function splitSinkList(text: string): string[] {
  const starts = SINK_SCHEMES.map((p) => p.replace(/[+.]/g, '\\$&')).join('|');
  return text.split(new RegExp(`,(?=\\s*(?:${starts}|stdout$))`)).map((s) => s.trim()).filter((s) => s !== '');
}
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
    'Usage: tailship [run|config|status|replay] [flags]',
    '',
    'Commands:',
    '  run (default)                   discover the configuration, tail, ship; stops cleanly on SIGTERM/SIGINT',
    '  config                          print the resolved configuration as JSON (secrets masked); exit 2 if invalid',
    '  status [--json]                 print per-file progress from the state dir',
    '  replay [--dry-run] [--json]     send the dead-letter spool ({state-dir}/dead-letter/) to --sink again;',
    '                                  exit 0 when nothing is left in it, 1 when entries stay (refused again)',
    '  policy simulate --policy FILE [--per-event] [--json] LOG...',
    '                                  what an audit policy would keep of audit logs (plain or .gz); ships nothing',
    '  webhook-kubeconfig --server URL [--ca FILE] [--client-cert FILE --client-key FILE] [--paths]',
    '                                  print the kubeconfig for kube-apiserver --audit-webhook-config-file',
    '  --help, -h                      this text',
    '  --version, -v                   the version',
    '',
    'Flags (each also from its env var in brackets; the flag wins; --flag VALUE and --flag=VALUE both work):',
    ...rows,
    `${'  --json'.padEnd(34)}status, replay: print JSON`,
    `${'  --dry-run'.padEnd(34)}replay: list what would be sent, send nothing`,
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
  return d.kind === 'sink' ? maskSinkUri(v) : v;
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
    case 'redact':
      try {
        parseRedactList(raw);
      } catch (e) {
        if (e instanceof TailshipError) fail('is not a redact list', e.fix ?? 'use secrets, tokens, all or off');
        throw e;
      }
      return raw.trim() === '' ? 'off' : raw.trim();
    case 'bytes0':
    case 'count':
    case 'bytes':
    case 'ms': {
      const s = raw.trim();
      const m = d.kind === 'bytes' || d.kind === 'bytes0' ? /^(\d+)\s*([kmg]?)(i?b)?$/i.exec(s) : d.kind === 'ms' ? /^(\d+)\s*(ms|s|m)?$/i.exec(s) : /^(\d+)$/.exec(s);
      const unit = m?.[2]?.toLowerCase() ?? '';
      const mult = d.kind === 'bytes' || d.kind === 'bytes0' ? SIZE_UNITS[unit]! : d.kind === 'ms' ? ({ '': 1, ms: 1, s: 1000, m: 60_000 } as Record<string, number>)[unit]! : 1;
      const n = m ? Number(m[1]) * mult : NaN;
      const min = d.kind === 'ms' || d.kind === 'bytes0' ? 0 : 1;
      const hint =
        d.kind === 'bytes0' ? 'a whole number of bytes ≥ 0, optionally with K, M or G (e.g. 1M; 0 = off)' : d.kind === 'bytes' ? 'a whole number of bytes ≥ 1, optionally with K, M or G (e.g. 16M)' : d.kind === 'ms' ? 'a whole number of milliseconds ≥ 0 (or with s / m, e.g. 10s)' : 'a whole number ≥ 1';
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
      const hp = parseHostPort(raw);
      if ('error' in hp) {
        return hp.error === 'port-range'
          ? fail('has a port above 65535', `use a port from 0 to 65535 (0 picks a free one)`)
          : fail('is not off or HOST:PORT', `e.g. ${example}127.0.0.1:2020 (or [::]:2020 for every address, or off)`);
      }
      // An empty host (`:2020`) is every address, like [::]:2020 (dual-stack).
      return raw;
    }
    case 'key':
      if (!/^[a-z0-9-]+$/.test(raw)) fail('is not a valid input key', 'use lowercase letters, digits and "-" (e.g. audit-webhook)');
      return raw;
    case 'sink': {
      const s = raw.trim();
      if (!SINK_SCHEMES.some((p) => s.startsWith(p))) fail('is not a sink URI', `use file:DIR, stdout:, http://…, https://…, sls://ENDPOINT, sls+http://…, elasticsearch+http(s)://…/INDEX, opensearch+…, loki+http(s)://…, otlp+http(s)://…, clickhouse+http(s)://…, syslog+tcp://… or syslog+tls://…`);
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
  let dryRun = false;
  let wantHelp = false;
  let wantVersion = false;
  const given = new Map<FlagDef, Given[]>();
  let rest: string[] | undefined;
  let firstError: UsageError | undefined;
  const fail = (e: UsageError) => {
    firstError ??= e;
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (command === undefined && arg === 'policy') {
      // `policy …` has its own arguments (src/commands/policy.ts); flags before it still apply.
      command = 'policy';
      rest = argv.slice(i + 1);
      break;
    }
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
    if (arg === '--dry-run') {
      dryRun = true;
      continue;
    }
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg : arg.slice(0, eq);
      const d = FLAGS.find((f) => f.flag === name);
      if (!d && ['--json', '--dry-run', '--help', '--version'].includes(name)) {
        fail(new UsageError(`${name} takes no value; write ${name} alone`, name));
        continue;
      }
      if (!d) {
        const guess = closest(name.slice(2), [...FLAGS.map((f) => f.flag.slice(2)), 'json', 'dry-run', 'help', 'version']);
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
      if (list.length > 0 && d.kind !== 'list' && d.kind !== 'sink') {
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
          ? `unknown command "${arg}"${guess ? `; did you mean ${guess}?` : ''}; commands are run, config, status, replay`
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

  if (!firstError && options.redactKey !== undefined) {
    // a key that cannot be read is a config error at start, not a failure at the first secret
    try {
      loadRedactKey(options.redactKey);
    } catch (e) {
      if (!(e instanceof TailshipError)) throw e;
      fail(new UsageError(`${e.message}; ${e.fix ?? ''}`, '--redact-key'));
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

  if (!firstError) {
    // webhook wiring: TLS flags that go together, plain HTTP only on loopback (SPEC §8)
    try {
      webhookConfig(options);
    } catch (e) {
      fail(new UsageError((e as Error).message, '--webhook-listen'));
    }
  }

  if (wantHelp || command === 'help') return { command: 'help', options: firstError ? { ...DEFAULT_OPTIONS, envFiles: [] } : options };
  if (wantVersion || command === 'version') return { command: 'version', options: firstError ? { ...DEFAULT_OPTIONS, envFiles: [] } : options };
  if (firstError) throw firstError;
  const out: Command = { command: command ?? 'run', options };
  if (json) out.json = true;
  if (dryRun) out.dryRun = true;
  if (rest) out.args = rest;
  return out;
}
