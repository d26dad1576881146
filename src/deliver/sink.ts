import type { Batch } from '../batch/batch.js';
import { ErrorCodes, TailshipError, type ErrorCode } from '../errors.js';

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

/**
 * A failed send. `code` is tailship's stable code (ErrorCodes.SINK_* / SLS_*): what tests, logs and the
 * dead-letter spool match on; `storeCode` is the store's own (an errno, an SLS errorCode) when there is one.
 */
export class SinkError extends TailshipError {
  override name = 'SinkError';
  readonly kind: SinkErrorKind;
  readonly statusCode?: number;
  /** From `Retry-After` or the store's own hint. */
  readonly retryAfterMs?: number;
  /** The store's own error code (errno such as ENOSPC, SLS `errorCode`) when there is one. */
  readonly storeCode?: string;
  /** The store's response body (truncated), kept for the dead-letter spool. */
  readonly responseBody?: string;

  constructor(
    kind: SinkErrorKind,
    code: ErrorCode,
    message: string,
    extra: { statusCode?: number; retryAfterMs?: number; storeCode?: string; responseBody?: string; cause?: unknown; fix?: string } = {},
  ) {
    super(code, message, extra.fix, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.kind = kind;
    this.statusCode = extra.statusCode;
    this.retryAfterMs = extra.retryAfterMs;
    this.storeCode = extra.storeCode;
    this.responseBody = extra.responseBody;
  }
}

/** The SinkError a send() after close() rejects with: the same for every sink (sink contract). */
export function closedError(sinkName: string): SinkError {
  return new SinkError('retryable', ErrorCodes.SINK_CLOSED, `the ${sinkName} sink is closed`);
}
