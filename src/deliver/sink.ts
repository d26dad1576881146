import type { Batch } from '../batch/batch.js';

/**
 * A log store. `send` resolves once the store has durably accepted the whole batch (the acknowledgement),
 * and rejects with a SinkError otherwise. It never drops a batch on its own: retries, dead letter and
 * pausing are the deliverer's decisions, made from the error's fields.
 */
export interface Sink {
  /** Short name for metrics and logs: `file`, `stdout`, `http`, `sls`. */
  readonly name: string;
  send(batch: Batch, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export type SinkErrorKind =
  /** Try again after a back-off (network, timeout, 408, 429, 5xx, SLS quota/busy). */
  | 'retryable'
  /** The batch itself is refused (400, 422, SLS PostBodyInvalid): dead-letter it. */
  | 'rejected'
  /** The batch is too large for the store (413): split it in halves and send each. */
  | 'too-large'
  /** The store refuses every batch until an operator fixes something (401/403, missing project/logstore):
   *  keep the batch, pause the input, retry slowly. */
  | 'blocked';

export class SinkError extends Error {
  readonly kind: SinkErrorKind;
  readonly statusCode?: number;
  /** From `Retry-After` or the store's own hint. */
  readonly retryAfterMs?: number;
  /** Store error code (SLS `errorCode`) when there is one. */
  readonly code?: string;
  /** The store's response body (truncated), kept for the dead-letter spool. */
  readonly responseBody?: string;

  constructor(
    kind: SinkErrorKind,
    message: string,
    extra: { statusCode?: number; retryAfterMs?: number; code?: string; responseBody?: string; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'SinkError';
    this.kind = kind;
    this.statusCode = extra.statusCode;
    this.retryAfterMs = extra.retryAfterMs;
    this.code = extra.code;
    this.responseBody = extra.responseBody;
  }
}
