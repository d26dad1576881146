/**
 * Stable error codes (`TAILSHIP_E_…`): what tests, logs and the dead-letter spool match on, never the message
 * text, which may be reworded. A code names what went wrong; the message says what to fix.
 */
export const ErrorCodes = {
  /** A configuration value (flag, env var, file) is invalid. */
  CONFIG_INVALID: 'TAILSHIP_E_CONFIG_INVALID',
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
