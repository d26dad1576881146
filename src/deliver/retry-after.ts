// The one reading of a store's `Retry-After` (the http and sls sinks use it; the deliverer honours the result).

/** A store's Retry-After is honoured up to this long: a bogus `Retry-After: 86400` must not park a batch for a day. */
export const RETRY_AFTER_CAP_MS = 5 * 60_000;

/**
 * Parses an HTTP `Retry-After` value (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Returns milliseconds
 * from `now` (0 for a date in the past), capped at `capMs`, or undefined when absent or unparseable.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number = Date.now(),
  capMs: number = RETRY_AFTER_CAP_MS,
): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Math.min(capMs, Number(v) * 1000);
  // Only accept something that looks like a date: Date.parse is lenient with junk such as "5 min".
  if (!/[a-z]{3}/i.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.min(capMs, Math.max(0, at - now));
}
