/**
 * Stable error codes (`TAILSHIP_E_…`): what tests, logs and the dead-letter spool match on, never the message
 * text, which may be reworded. A code names what went wrong; the message says what to fix.
 */
export const ErrorCodes = {
  /** A configuration value (flag, env var, file) is invalid. */
  CONFIG_INVALID: 'TAILSHIP_E_CONFIG_INVALID',
  // ---- audit redaction and trimming (src/audit/redact, src/audit/trim.ts) ----
  /** `--redact` / `?redact=` names something other than secrets, tokens, all or off. */
  REDACT_LIST_INVALID: 'TAILSHIP_E_REDACT_LIST_INVALID',
  /** `--redact-key` names a file that cannot be read or is empty. */
  REDACT_KEY_UNREADABLE: 'TAILSHIP_E_REDACT_KEY_UNREADABLE',
  // ---- end of audit redaction and trimming ----
  // ---- several sinks, schemas, Elasticsearch / Loki / OTLP / eventlist (issue 14, helper `sinks`) ----
  /** `?schema=` / `?bodies=` of a sink URI is not a known value. */
  SINK_SCHEMA_INVALID: 'TAILSHIP_E_SINK_SCHEMA_INVALID',
  /** `?policy=` / `?redact=` on a sink, but no per-sink stage factory is wired in. */
  SINK_STAGES_UNAVAILABLE: 'TAILSHIP_E_SINK_STAGES_UNAVAILABLE',
  /** A sink URI (or one of its parameters) is invalid. */
  SINK_URI_INVALID: 'TAILSHIP_E_SINK_URI_INVALID',
  /** Elasticsearch / OpenSearch `_bulk`: the whole request failed (status in the SinkError; 413 and 401/403 carry SINK_TOO_LARGE / SINK_AUTH). */
  SINK_ES_BULK_FAILED: 'TAILSHIP_E_SINK_ES_BULK_FAILED',
  /** Elasticsearch: a document was refused for good (mapping error…) and went to the dead-letter spool. */
  SINK_ES_ITEM_REJECTED: 'TAILSHIP_E_SINK_ES_ITEM_REJECTED',
  /** Elasticsearch: some documents answered 429/5xx; only those are sent again. */
  SINK_ES_ITEMS_RETRY: 'TAILSHIP_E_SINK_ES_ITEMS_RETRY',
  /** Elasticsearch: the `_bulk` answer could not be read (not JSON, items missing). */
  SINK_ES_BAD_RESPONSE: 'TAILSHIP_E_SINK_ES_BAD_RESPONSE',
  /** Loki push failed (status in the SinkError). */
  SINK_LOKI_PUSH_FAILED: 'TAILSHIP_E_SINK_LOKI_PUSH_FAILED',
  /** Loki refused entries for good (out of order, too old): dead-lettered. */
  SINK_LOKI_ENTRIES_REJECTED: 'TAILSHIP_E_SINK_LOKI_ENTRIES_REJECTED',
  /** OTLP export failed (status in the SinkError). */
  SINK_OTLP_EXPORT_FAILED: 'TAILSHIP_E_SINK_OTLP_EXPORT_FAILED',
  /** OTLP partial success: the receiver rejected some log records: dead-lettered. */
  SINK_OTLP_PARTIAL_REJECTED: 'TAILSHIP_E_SINK_OTLP_PARTIAL_REJECTED',
  // ---- end of issue 14 (sinks) ----
  // ---- audit policy (src/audit/policy, `--audit-policy`, `tailship policy simulate`) ----
  /** The policy file cannot be read. */
  POLICY_UNREADABLE: 'TAILSHIP_E_POLICY_UNREADABLE',
  /** The policy file is not valid YAML/JSON, or holds more than one document. */
  POLICY_SYNTAX: 'TAILSHIP_E_POLICY_SYNTAX',
  /** The document is not an `audit.k8s.io` v1/v1beta1 `Policy`. */
  POLICY_NOT_A_POLICY: 'TAILSHIP_E_POLICY_NOT_A_POLICY',
  /** A field has the wrong type or value (the message names it, e.g. `rules[3].level`). */
  POLICY_INVALID: 'TAILSHIP_E_POLICY_INVALID',
  /** The policy has no rules (the API server refuses it). */
  POLICY_NO_RULES: 'TAILSHIP_E_POLICY_NO_RULES',
  /** `policy simulate`: a log file cannot be read. */
  POLICY_LOG_UNREADABLE: 'TAILSHIP_E_POLICY_LOG_UNREADABLE',
  // ---- end audit policy ----

  // ---- sinks and delivery (area: deliver/). A SinkError carries one of these in `code`; the store's own
  // code (an errno, an SLS errorCode) stays in `storeCode`. `kind` says what the deliverer does. ----
  /** No answer: connection refused or reset, DNS, socket closed (retryable). */
  SINK_NETWORK: 'TAILSHIP_E_SINK_NETWORK',
  /** No complete answer in time, or the store answered 408 (retryable). */
  SINK_TIMEOUT: 'TAILSHIP_E_SINK_TIMEOUT',
  /** 429, or the store's quota/busy codes (retryable, honouring Retry-After). */
  SINK_THROTTLED: 'TAILSHIP_E_SINK_THROTTLED',
  /** 5xx (retryable). */
  SINK_HTTP_5XX: 'TAILSHIP_E_SINK_HTTP_5XX',
  /** A 4xx other than auth, 408, 413, 429: the batch itself is refused (rejected: dead letter). */
  SINK_HTTP_4XX: 'TAILSHIP_E_SINK_HTTP_4XX',
  /** A redirect (3xx): the sink URI must name the final address (blocked). */
  SINK_HTTP_REDIRECT: 'TAILSHIP_E_SINK_HTTP_REDIRECT',
  /** A status tailship does not expect (1xx as final…): retried, never dropped. */
  SINK_HTTP_UNEXPECTED: 'TAILSHIP_E_SINK_HTTP_UNEXPECTED',
  /** The request is too large for the store (413, SLS PostBodyTooLarge): too-large (split), or rejected for one log. */
  SINK_TOO_LARGE: 'TAILSHIP_E_SINK_TOO_LARGE',
  /** The store refuses the credentials (401/403, bad signature, unknown key; ClickHouse codes 192-195, 497, 516) (blocked): every sink. */
  SINK_AUTH: 'TAILSHIP_E_SINK_AUTH',
  /** No credentials could be found or read (blocked). */
  SINK_CREDENTIALS_MISSING: 'TAILSHIP_E_SINK_CREDENTIALS_MISSING',
  /** The store's TLS certificate is not trusted (blocked). */
  SINK_TLS_UNTRUSTED: 'TAILSHIP_E_SINK_TLS_UNTRUSTED',
  /** send() after close() (retryable: the batch is not lost, it is sent by the next run). */
  SINK_CLOSED: 'TAILSHIP_E_SINK_CLOSED',
  /** The send was aborted by its caller before the store acknowledged it. */
  SINK_ABORTED: 'TAILSHIP_E_SINK_ABORTED',
  /** A local write failed for lack of space (ENOSPC, EDQUOT) (retryable). */
  SINK_DISK_FULL: 'TAILSHIP_E_SINK_DISK_FULL',
  /** A local write is not permitted (EACCES, EPERM, EROFS) (retryable: an operator fixes it, delivery resumes). */
  SINK_PERMISSION: 'TAILSHIP_E_SINK_PERMISSION',
  /** Any other local write failure (EIO, ENOTDIR, …) (retryable). */
  SINK_IO: 'TAILSHIP_E_SINK_IO',
  /** The reader of stdout is gone (EPIPE) (blocked). */
  SINK_STDOUT_BROKEN: 'TAILSHIP_E_SINK_STDOUT_BROKEN',
  /** A sink threw something that is not a SinkError (a bug): treated as retryable so nothing is lost. */
  SINK_UNEXPECTED: 'TAILSHIP_E_SINK_UNEXPECTED',
  /** No SLS project for the batch: neither the input's _project nor ?project= (blocked). */
  SLS_NO_PROJECT: 'TAILSHIP_E_SLS_NO_PROJECT',
  /** The SLS project does not exist in that region (blocked). */
  SLS_PROJECT_NOT_EXIST: 'TAILSHIP_E_SLS_PROJECT_NOT_EXIST',
  /** The SLS logstore does not exist and is not created (blocked; retryable just after creating it). */
  SLS_LOGSTORE_NOT_EXIST: 'TAILSHIP_E_SLS_LOGSTORE_NOT_EXIST',
  /** tailship could not create the missing logstore (blocked). */
  SLS_LOGSTORE_CREATE_FAILED: 'TAILSHIP_E_SLS_LOGSTORE_CREATE_FAILED',
  /** SLS finds the request time off (RequestTimeExpired: retryable after re-sync; InvalidRequestTime: blocked). */
  SLS_CLOCK_SKEW: 'TAILSHIP_E_SLS_CLOCK_SKEW',
  /** The endpoint does not take this compression (blocked). */
  SLS_COMPRESSION_UNSUPPORTED: 'TAILSHIP_E_SLS_COMPRESSION_UNSUPPORTED',
  /** The dead-letter spool cannot be written (the deliverer retries; the batch is kept). */
  DEAD_LETTER_WRITE: 'TAILSHIP_E_DEAD_LETTER_WRITE',

  // ---- configuration (area: config/, sink URIs). ConfigProblem.code and UsageError.code. ----
  /** A command-line flag or TAILSHIP_* value is invalid, unknown, missing or repeated. */
  CONFIG_FLAG: 'TAILSHIP_E_CONFIG_FLAG',
  /** A sink URI is not one of the accepted forms, or not a valid URL. */
  CONFIG_SINK_URI: 'TAILSHIP_E_CONFIG_SINK_URI',
  /** A sink URI parameter (?gzip=, ?compress=, ?ca=, …) or a sink env var is invalid. */
  CONFIG_SINK_OPTION: 'TAILSHIP_E_CONFIG_SINK_OPTION',
  /** An aliyun_logs_* variable name is malformed (key, prefix case, trailing `_`, no key). */
  CONFIG_ENV_NAME: 'TAILSHIP_E_CONFIG_ENV_NAME',
  /** An unreplaced ${cluster_id} placeholder. */
  CONFIG_ENV_PLACEHOLDER: 'TAILSHIP_E_CONFIG_ENV_PLACEHOLDER',
  /** The path of an input is invalid (empty, relative, a directory, a glob in a directory…) or unreadable offline. */
  CONFIG_ENV_PATH: 'TAILSHIP_E_CONFIG_ENV_PATH',
  /** An unknown suffix (did you mean …). */
  CONFIG_ENV_SUFFIX: 'TAILSHIP_E_CONFIG_ENV_SUFFIX',
  /** A suffix variable without its main variable. */
  CONFIG_ENV_ORPHAN: 'TAILSHIP_E_CONFIG_ENV_ORPHAN',
  /** A suffix or TAILSHIP_TAGS value is invalid or empty (tag, shard, ttl, mode, jsonfile, …). */
  CONFIG_ENV_VALUE: 'TAILSHIP_E_CONFIG_ENV_VALUE',
  /** The same variable is set in two places, or loong_logs_ overrides aliyun_logs_ (warning). */
  CONFIG_ENV_OVERRIDDEN: 'TAILSHIP_E_CONFIG_ENV_OVERRIDDEN',
  /** An --env-file cannot be read or has a syntax error. */
  CONFIG_ENV_FILE: 'TAILSHIP_E_CONFIG_ENV_FILE',
  /** The --manifests directory or a manifest in it cannot be read or parsed. */
  CONFIG_MANIFEST: 'TAILSHIP_E_CONFIG_MANIFEST',
  /** A manifest input's path maps to no hostPath volume. */
  CONFIG_MANIFEST_MOUNT: 'TAILSHIP_E_CONFIG_MANIFEST_MOUNT',
  /** Two inputs read the same host path. */
  CONFIG_DUPLICATE_INPUT: 'TAILSHIP_E_CONFIG_DUPLICATE_INPUT',
  /** A `stdout` input: not collected from files, skipped (warning). */
  CONFIG_STDOUT_INPUT: 'TAILSHIP_E_CONFIG_STDOUT_INPUT',
  /** No input is configured at all (SPEC §2: run exits 2 saying how to add one). */
  CONFIG_NO_INPUT: 'TAILSHIP_E_CONFIG_NO_INPUT',
  /** An input's directory is missing, its file unreadable or a directory (a warning of `tailship config`). */
  CONFIG_INPUT_PATH: 'TAILSHIP_E_CONFIG_INPUT_PATH',
  /** An sls:// sink with no project for some input. */
  CONFIG_SLS_PROJECT: 'TAILSHIP_E_CONFIG_SLS_PROJECT',
  /** An sls:// sink with no credentials, or an unreadable credentials file. */
  CONFIG_SLS_CREDENTIALS: 'TAILSHIP_E_CONFIG_SLS_CREDENTIALS',
  /** `tailship replay`: the spool has a line that is not a dead-letter record (kept, reported). */
  REPLAY_BAD_RECORD: 'TAILSHIP_E_REPLAY_BAD_RECORD',

  // ---- ClickHouse and syslog stores (issue 14, SPEC §10) -------------------------------------------------------
  /** A `clickhouse+http(s)://` sink URI is invalid. */
  SINK_CLICKHOUSE_URI: 'TAILSHIP_E_SINK_CLICKHOUSE_URI',
  /** ClickHouse could not be reached, or the answer was cut off or late: retryable. */
  SINK_CLICKHOUSE_NETWORK: 'TAILSHIP_E_SINK_CLICKHOUSE_NETWORK',
  /** ClickHouse answered with a server-side error (5xx, overloaded, too many parts): retryable. */
  SINK_CLICKHOUSE_SERVER: 'TAILSHIP_E_SINK_CLICKHOUSE_SERVER',
  /** The database or table does not exist (codes 60, 81): blocked; fix: create it or add `?create=true`. */
  SINK_CLICKHOUSE_NO_TABLE: 'TAILSHIP_E_SINK_CLICKHOUSE_NO_TABLE',
  /** The table cannot take tailship's rows (missing column, read-only server): blocked. */
  SINK_CLICKHOUSE_TABLE: 'TAILSHIP_E_SINK_CLICKHOUSE_TABLE',
  /** ClickHouse could not parse a row of the batch: the batch is rejected (dead letter). */
  SINK_CLICKHOUSE_ROW_REJECTED: 'TAILSHIP_E_SINK_CLICKHOUSE_ROW_REJECTED',
  /** The server's TLS certificate is not trusted: blocked; fix: `?ca=FILE`. */
  SINK_CLICKHOUSE_TLS: 'TAILSHIP_E_SINK_CLICKHOUSE_TLS',
  /** A `syslog+tcp://` / `syslog+tls://` sink URI is invalid. */
  SINK_SYSLOG_URI: 'TAILSHIP_E_SINK_SYSLOG_URI',
  /** The syslog receiver could not be reached (refused, unreachable, connect timeout): retryable. */
  SINK_SYSLOG_CONNECT: 'TAILSHIP_E_SINK_SYSLOG_CONNECT',
  /** The connection failed or closed before the whole batch was written: the whole batch is retried. */
  SINK_SYSLOG_WRITE: 'TAILSHIP_E_SINK_SYSLOG_WRITE',
  /** The receiver's TLS certificate is not trusted, or the handshake failed: blocked; fix: `?ca=FILE`. */
  SINK_SYSLOG_TLS: 'TAILSHIP_E_SINK_SYSLOG_TLS',
  /** The sink was closed: nothing more is sent. */
  SINK_SYSLOG_CLOSED: 'TAILSHIP_E_SINK_SYSLOG_CLOSED',
  // ---- end of ClickHouse and syslog stores ---------------------------------------------------------------------
  // --- state dir and CLI hardening (issue 10: lock, writability, status) ---
  /** Another agent holds the state dir's lock (SPEC §11: one agent per state dir). */
  STATE_LOCKED: 'TAILSHIP_E_STATE_LOCKED',
  /** The state dir cannot be created or written: checkpoints could not be saved. */
  STATE_UNWRITABLE: 'TAILSHIP_E_STATE_UNWRITABLE',
  /** `tailship status` was given a state dir that does not exist. */
  STATE_DIR_MISSING: 'TAILSHIP_E_STATE_DIR_MISSING',
  // --- end state dir and CLI hardening ---
  /** A bug: an event of a batch was read after the batch was settled and its bytes reused (batch/event-arena.ts). */
  EVENT_RELEASED: 'TAILSHIP_E_EVENT_RELEASED',
  // ---- webhook receiver (SPEC §8): the `code` of its JSON answers ----
  /** 400: the body (or an item) is not JSON, or a gzip body is corrupt. */
  WEBHOOK_NOT_JSON: 'TAILSHIP_E_WEBHOOK_NOT_JSON',
  /** 400: JSON, but not an audit.k8s.io EventList (kind, apiVersion, items). */
  WEBHOOK_NOT_EVENTLIST: 'TAILSHIP_E_WEBHOOK_NOT_EVENTLIST',
  /** 400: an item of the EventList is not an audit Event. */
  WEBHOOK_BAD_EVENT: 'TAILSHIP_E_WEBHOOK_BAD_EVENT',
  /** 400: the client went away before the end of its body. */
  WEBHOOK_ABORTED: 'TAILSHIP_E_WEBHOOK_ABORTED',
  /** 413: over 32 MiB, as sent or decompressed. */
  WEBHOOK_TOO_LARGE: 'TAILSHIP_E_WEBHOOK_TOO_LARGE',
  /** 415: a Content-Encoding other than identity or gzip. */
  WEBHOOK_ENCODING: 'TAILSHIP_E_WEBHOOK_ENCODING',
  /** 405: not a POST. */
  WEBHOOK_METHOD: 'TAILSHIP_E_WEBHOOK_METHOD',
  /** 429: the spool holds more than --max-inflight-bytes × 4 unacknowledged. */
  WEBHOOK_SPOOL_FULL: 'TAILSHIP_E_WEBHOOK_SPOOL_FULL',
  /** 429: too many request bodies in memory at once. */
  WEBHOOK_BUSY: 'TAILSHIP_E_WEBHOOK_BUSY',
  /** 503: the spool cannot be written (disk full, read-only state dir). */
  WEBHOOK_SPOOL_WRITE: 'TAILSHIP_E_WEBHOOK_SPOOL_WRITE',
  /** 500: a bug. */
  WEBHOOK_INTERNAL: 'TAILSHIP_E_WEBHOOK_INTERNAL',
  // ---- end webhook ----
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Every code, for tests that check a value is one of them. */
export const ALL_ERROR_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCodes));

/** An error with a stable code. `fix` says what the user should change, when there is something to change. */
export class TailshipError extends Error {
  override name = 'TailshipError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fix?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
