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
  /** The variable (or flag) at fault, e.g. `aliyun_logs_audit_tag`. */
  variable: string;
  origin: Origin;
  message: string;
  /** What the user should change. */
  fix: string;
}

export type StartAt = 'beginning' | 'end';

/** SPEC §1 flags after defaults and env fallbacks. */
export interface AgentOptions {
  envFiles: string[];
  manifests?: string;
  hostRoot: string;
  stateDir: string;
  sink: string;
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
}
