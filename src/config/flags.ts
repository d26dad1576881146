// SPEC §1: every flag, its env var, its kind of value and its default.

import type { AgentOptions } from './types.js';

export type Kind = 'path' | 'optpath' | 'list' | 'bool' | 'count' | 'bytes' | 'ms' | 'startAt' | 'listen' | 'sink' | 'level' | 'redact' | 'bytes0' | 'key';

export interface FlagDef {
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
  // 10 MiB: each MiB in flight costs ~1 MB at a backlog's peak (the events' bytes, batch/event-arena.ts); 12 MiB
  // was 2.5 % faster into http but 2 MB over the 100 MB peak, 9 MiB 8 % slower for 1 MB less (bench/README.md)
  maxInflightBytes: 10_485_760,
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

export const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
export const SINK_SCHEMES = ['file:', 'stdout:', 'http://', 'https://', 'sls://', 'sls+http://'];
// several sinks (SPEC §10): the stores of issue 14, and how a comma-separated TAILSHIP_SINK is split
const MORE_SINK_SCHEMES = ['elasticsearch+http://', 'elasticsearch+https://', 'opensearch+http://', 'opensearch+https://', 'loki+http://', 'loki+https://', 'otlp+http://', 'otlp+https://'];
SINK_SCHEMES.push(...MORE_SINK_SCHEMES);
/** A comma starts a new sink only where a sink URI begins: `?redact=secrets,tokens` stays in its URI. */
export function splitSinkList(text: string): string[] {
  const starts = SINK_SCHEMES.map((p) => p.replace(/[+.]/g, '\\$&')).join('|');
  return text.split(new RegExp(`,(?=\\s*(?:${starts}|stdout$))`)).map((s) => s.trim()).filter((s) => s !== '');
}
// ClickHouse and syslog stores (issue 14, SPEC §10): a separate line, so merges with other sink schemes stay easy.
SINK_SCHEMES.push('clickhouse+http://', 'clickhouse+https://', 'syslog+tcp://', 'syslog+tls://');


/** The default of a flag as `--help` shows it. */
export function defaultText(d: FlagDef): string {
  const v = DEFAULT_OPTIONS[d.key];
  if (d.kind === 'bool') return 'off';
  if (v === undefined || (Array.isArray(v) && v.length === 0)) return 'none';
  if (v === '') return "'' (none)";
  return String(v);
}
