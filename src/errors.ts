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
  /** Elasticsearch / OpenSearch `_bulk`: the whole request failed (status in the SinkError). */
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
  /** Network error or timeout talking to one of these stores. */
  SINK_NETWORK: 'TAILSHIP_E_SINK_NETWORK',
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

  // ---- ClickHouse and syslog stores (issue 14, SPEC §10) -------------------------------------------------------
  /** A `clickhouse+http(s)://` sink URI is invalid. */
  SINK_CLICKHOUSE_URI: 'TAILSHIP_E_SINK_CLICKHOUSE_URI',
  /** ClickHouse could not be reached, or the answer was cut off or late: retryable. */
  SINK_CLICKHOUSE_NETWORK: 'TAILSHIP_E_SINK_CLICKHOUSE_NETWORK',
  /** ClickHouse answered with a server-side error (5xx, overloaded, too many parts): retryable. */
  SINK_CLICKHOUSE_SERVER: 'TAILSHIP_E_SINK_CLICKHOUSE_SERVER',
  /** ClickHouse refused the user or password (codes 192, 193, 194, 195, 516) or the grant (497): blocked. */
  SINK_CLICKHOUSE_AUTH: 'TAILSHIP_E_SINK_CLICKHOUSE_AUTH',
  /** The database or table does not exist (codes 60, 81): blocked; fix: create it or add `?create=true`. */
  SINK_CLICKHOUSE_NO_TABLE: 'TAILSHIP_E_SINK_CLICKHOUSE_NO_TABLE',
  /** The table cannot take tailship's rows (missing column, read-only server): blocked. */
  SINK_CLICKHOUSE_TABLE: 'TAILSHIP_E_SINK_CLICKHOUSE_TABLE',
  /** ClickHouse could not parse a row of the batch: the batch is rejected (dead letter). */
  SINK_CLICKHOUSE_ROW_REJECTED: 'TAILSHIP_E_SINK_CLICKHOUSE_ROW_REJECTED',
  /** The request was too large for the server or a proxy in front of it (413): split. */
  SINK_CLICKHOUSE_TOO_LARGE: 'TAILSHIP_E_SINK_CLICKHOUSE_TOO_LARGE',
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
