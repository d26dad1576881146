/**
 * Stable error codes (`TAILSHIP_E_…`): what tests, logs and the dead-letter spool match on, never the message
 * text, which may be reworded. A code names what went wrong; the message says what to fix.
 */
export const ErrorCodes = {
  /** A configuration value (flag, env var, file) is invalid. */
  CONFIG_INVALID: 'TAILSHIP_E_CONFIG_INVALID',
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
