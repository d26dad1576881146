import type { Logger } from '../observe/log.js';
import type { SinkError } from './sink.js';

/** While retryable failures go on, a warning at most this often (plus one at the start and one at recovery). */
const RETRYABLE_LOG_EVERY_MS = 60_000;
/** While the store refuses everything (401/403 …), the warning with the fix at most this often. */
const BLOCKED_LOG_EVERY_MS = 10 * 60_000;

export type TroubleLog = ReturnType<typeof createTroubleLog>;

/**
 * Operator-facing log of a failing store: a warning when trouble starts (for 'blocked', with the fix the sink put
 * in the message), then at most one per interval while it lasts, and one info line when it ends. The interval
 * holds across episodes too, so a flapping store (fail, succeed, fail…) gives a line a minute, not one per request.
 */
export function createTroubleLog(logger: Logger, now: () => number) {
  let state: { kind: SinkError['kind']; since: number; failures: number; warned: boolean } | undefined;
  const lastWarn = new Map<SinkError['kind'], number>();

  return {
    failed(err: SinkError): void {
      const t = now();
      if (!state || state.kind !== err.kind) state = { kind: err.kind, since: t, failures: 0, warned: false };
      state.failures++;
      const blocked = err.kind === 'blocked';
      const every = blocked ? BLOCKED_LOG_EVERY_MS : RETRYABLE_LOG_EVERY_MS;
      if (t - (lastWarn.get(err.kind) ?? -Infinity) < every) return;
      lastWarn.set(err.kind, t);
      const fields = { kind: err.kind, statusCode: err.statusCode, code: err.code, storeCode: err.storeCode, failures: state.failures, sinceSeconds: Math.round((t - state.since) / 1000) };
      if (!state.warned) {
        state.warned = true;
        logger.warn(
          fields,
          blocked
            ? `the store refuses every batch; holding them and retrying slowly until this is fixed: ${err.message}`
            : `delivery failing, retrying with back-off: ${err.message}`,
        );
      } else {
        logger.warn(fields, `${blocked ? 'the store still refuses every batch' : 'delivery still failing'}: ${err.message}`);
      }
    },
    recovered(): void {
      if (state?.warned) {
        logger.info(
          { failures: state.failures, afterSeconds: Math.round((now() - state.since) / 1000) },
          `delivery recovered after ${state.failures} failed attempts`,
        );
      }
      state = undefined;
    },
  };
}
