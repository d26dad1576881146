import type { ErrorCode } from '../errors.js';
// The resolved configuration: what the config stage hands to the rest of the pipeline.

/** Where a variable was found, so that every error can name it. */
export type Origin =
  | { kind: 'env' }
  | { kind: 'file'; file: string; line: number }
  | { kind: 'manifest'; file: string; pod: string; container: string };

/** One `aliyun_logs_{key}` input after all suffixes are applied. */
export interface InputSpec {
  key: string;
  origin: Origin;
  /** The value as configured: a path (container path for a manifest input, may hold a glob) or `stdout`. */
  path: string;
  /** Where tailship reads it on this machine: host path, `--host-root` in front. Empty for stdout inputs. */
  hostPath: string;
  /** `stdout` inputs cannot be collected from files; reported and skipped. */
  stdout: boolean;
  /** The input's own tags (`_tags`, plus TAILSHIP_TAGS). Not the reserved `__hostname__`/`__path__`. */
  tags: Record<string, string>;
  product?: string;
  /** Parse each line as one JSON object (`_jsonfile`, product k8s-audit, or an ACK audit logstore). */
  json: boolean;
  logstore: string;
  project?: string;
  shard: number;
  ttl: number;
  logstoreMode: 'standard' | 'query';
  /** Every other recognised suffix, verbatim (`_machinegroup`, `_language`, …), for `tailship config`. */
  extra: Record<string, string>;
}

export interface ConfigProblem {
  /** Stable code (ErrorCodes.CONFIG_*): what tests and tools match on; the message may be reworded. */
  code: ErrorCode;
  /** The variable (or flag) at fault, e.g. `aliyun_logs_audit_tag`. */
  variable: string;
  origin: Origin;
  message: string;
  /** What the user should change. */
  fix: string;
}

/** What the config stage resolved: the inputs to tail, or the problems to fix. */
export interface ResolvedConfig {
  /** File inputs to tail. */
  inputs: InputSpec[];
  /** `stdout` inputs: reported, not collected (each also has a warning). */
  skipped: InputSpec[];
  /** Errors: any one makes the configuration invalid (`run` and `config` exit 2). */
  problems: ConfigProblem[];
  warnings: ConfigProblem[];
  /** Debug-level notes (manifest documents skipped because they are not pods, …). */
  notes: string[];
}

export type StartAt = 'beginning' | 'end';

/** SPEC §1 flags after defaults and env fallbacks. */
export interface AgentOptions {
  envFiles: string[];
  manifests?: string;
  hostRoot: string;
  stateDir: string;
  /** The first of `sinks` (kept for callers that know one sink). */
  sink: string;
  /** Every `--sink` (repeatable; TAILSHIP_SINK comma-separated), in order; at least one. SPEC §10. */
  sinks: string[];
  listen: string; // 'off' or HOST:PORT
  startAt: StartAt;
  backfill: boolean;
  maxLineBytes: number;
  batchMaxEvents: number;
  batchMaxBytes: number;
  batchMaxWait: number;
  shutdownGrace: number;
  /** /readyz answers 503 once an input's file is missing or unreadable for this long (ms). */
  inputDownGrace: number;
  logLevel: string;
  /** Bound on bytes read but not yet acknowledged; reading pauses above it. */
  maxInflightBytes: number;
  /** Test/demo aid: exit 0 once every input has been read to its end and acknowledged. */
  exitWhenIdle: boolean;
  /** `--audit-policy FILE` (SPEC §6): an audit.k8s.io Policy applied to every JSON input's events. */
  auditPolicy?: string;
  /** With no input, wait (log every minute, /readyz 503) instead of exiting 2: the DaemonSet on a node with none. */
  waitForInputs?: boolean;
  // ---- audit redaction and trimming (SPEC §6) ----
  /** `--redact`: `off`, or a comma list of `secrets`, `tokens`, `all` (validated by parseRedactList). */
  redact: string;
  /** `--redact-key FILE`: HMAC key for redacted values; without it they become `[REDACTED]`. */
  redactKey?: string;
  /** `--max-event-bytes N`: trim larger events (0 = off). */
  maxEventBytes: number;
  // ---- webhook receiver (SPEC §8) ----
  /** `off` or HOST:PORT. */
  webhookListen: string;
  webhookTlsCert?: string;
  webhookTlsKey?: string;
  webhookClientCa?: string;
  /** The input key of the webhook spool (logstore, `_tags`, `_product` as for `aliyun_logs_{KEY}`). */
  webhookKey: string;
  /** Headers and body of a webhook request must arrive within this long. */
  webhookTimeout: number;
}
