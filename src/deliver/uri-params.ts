// Query parameters that several sink URIs share, read one way (clickhouse+…, syslog+…).

/** SPEC §10's per-sink parameters of every sink URI: applied by the fan-out before the batch reaches the sink. */
export const FANOUT_PARAMS: ReadonlySet<string> = new Set(['policy', 'redact', 'schema']);

/** Builds the sink's own error for a bad parameter: what is wrong, and the fix. */
export type InvalidParam = (message: string, fix: string) => Error;

/** `?key` / `?key=true` → true, `?key=false` or absent → false; anything else is refused. */
export function boolParam(q: URLSearchParams, key: string, invalid: InvalidParam): boolean {
  const v = q.get(key);
  if (v === null) return false;
  if (v === 'true' || v === '') return true;
  if (v === 'false') return false;
  throw invalid(`?${key}=${v} is not valid`, `use ?${key}=true or ?${key}=false`);
}

/** `?timeout=MS` (a whole number ≥ 1), else `dflt`. */
export function timeoutParam(q: URLSearchParams, dflt: number, invalid: InvalidParam): number {
  const timeout = q.get('timeout');
  if (timeout === null) return dflt;
  if (!/^\d+$/.test(timeout) || Number(timeout) < 1) throw invalid(`?timeout=${timeout} is not valid`, 'give milliseconds, e.g. ?timeout=30000');
  return Number(timeout);
}
