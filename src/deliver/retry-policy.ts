import { RETRY_AFTER_CAP_MS } from './retry-after.js';
import type { SinkError } from './sink.js';

/** Back-off settings; the defaults are what the deliverer uses. */
export interface BackoffOptions {
  /** First retry of a retryable failure waits up to this long (full jitter). */
  baseMs: number;
  /** Retryable failures never wait longer than this (before Retry-After). */
  capMs: number;
  /** A store's Retry-After is honoured up to this long: a bogus `Retry-After: 86400` must not park a batch for a day. */
  retryAfterCapMs: number;
  /** 'blocked' (401/403, missing project…) needs an operator: retry slowly from here… */
  blockedBaseMs: number;
  /** …doubling up to this. */
  blockedCapMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  baseMs: 500,
  capMs: 30_000,
  retryAfterCapMs: RETRY_AFTER_CAP_MS,
  blockedBaseMs: 30_000,
  blockedCapMs: 5 * 60_000,
};

/**
 * How long to wait before the next attempt of a batch, after its `attempt`-th consecutive failure (1-based).
 *
 * - 'retryable': exponential with full jitter (AWS architecture blog), `rand() * min(cap, base * 2^(attempt-1))`,
 *   so that many batches failing together do not come back together; never below the store's Retry-After.
 * - 'blocked': slow and nearly fixed (30 s, 60 s, … 5 min, ±10 % jitter): the store refuses everything until an
 *   operator acts, so frequent retries only add load and log noise.
 * - 'rejected' and 'too-large' are never retried as they are (dead letter / split), so 0.
 *
 * `rand` returns [0, 1) like Math.random; injected so that tests are deterministic.
 */
export function backoffDelay(
  attempt: number,
  err: Pick<SinkError, 'kind' | 'retryAfterMs'>,
  rand: () => number,
  opts: Partial<BackoffOptions> = {},
): number {
  const o = { ...DEFAULT_BACKOFF, ...opts };
  const n = Math.max(1, Math.floor(attempt));
  // 2^30 * base overflows any cap; clamp the exponent so the maths stays finite.
  const exp = (base: number, cap: number) => Math.min(cap, base * 2 ** Math.min(n - 1, 30));
  const retryAfter = err.retryAfterMs !== undefined && err.retryAfterMs > 0 ? Math.min(err.retryAfterMs, o.retryAfterCapMs) : 0;
  switch (err.kind) {
    case 'retryable':
      return Math.max(retryAfter, Math.floor(rand() * exp(o.baseMs, o.capMs)));
    case 'blocked': {
      const d = exp(o.blockedBaseMs, o.blockedCapMs);
      return Math.max(retryAfter, Math.floor(d * (0.9 + 0.2 * rand())));
    }
    default:
      return 0;
  }
}
