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
