/**
 * Stable error codes (`TAILSHIP_E_…`): what tests, logs and the dead-letter spool match on, never the message
 * text, which may be reworded. A code names what went wrong; the message says what to fix.
 */
export const ErrorCodes = {
  /** A configuration value (flag, env var, file) is invalid. */
  CONFIG_INVALID: 'TAILSHIP_E_CONFIG_INVALID',
  // --- state dir and CLI hardening (issue 10: lock, writability, status) ---
  /** Another agent holds the state dir's lock (SPEC §11: one agent per state dir). */
  STATE_LOCKED: 'TAILSHIP_E_STATE_LOCKED',
  /** The state dir cannot be created or written: checkpoints could not be saved. */
  STATE_UNWRITABLE: 'TAILSHIP_E_STATE_UNWRITABLE',
  /** `tailship status` was given a state dir that does not exist. */
  STATE_DIR_MISSING: 'TAILSHIP_E_STATE_DIR_MISSING',
  // --- end state dir and CLI hardening ---
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
