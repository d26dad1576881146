/**
 * Stable error codes (`TAILSHIP_E_…`): what tests, logs and the dead-letter spool match on, never the message
 * text, which may be reworded. A code names what went wrong; the message says what to fix.
 */
export const ErrorCodes = {
  /** A configuration value (flag, env var, file) is invalid. */
  CONFIG_INVALID: 'TAILSHIP_E_CONFIG_INVALID',
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
