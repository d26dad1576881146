/**
 * What /readyz says about the sinks (SPEC §10: a sink that is down holds reading back and says so in /readyz): not
 * ready while a sink has failed for longer than a threshold, with the sink named in the body. The threshold is
 * 60 s; `TAILSHIP_SINK_UNHEALTHY_MS` changes it (tests, or a store whose failovers take longer).
 */
import { TailshipError, ErrorCodes } from '../errors.js';

export const SINK_UNHEALTHY_MS = 60_000;

/** The threshold from `TAILSHIP_SINK_UNHEALTHY_MS` (milliseconds, ≥ 1), else 60 s. */
export function sinkUnhealthyMs(env: Record<string, string | undefined>): number {
  const v = env.TAILSHIP_SINK_UNHEALTHY_MS;
  if (v === undefined || v === '') return SINK_UNHEALTHY_MS;
  if (!/^\d+$/.test(v) || Number(v) < 1) {
    throw new TailshipError(ErrorCodes.CONFIG_SINK_OPTION, `TAILSHIP_SINK_UNHEALTHY_MS=${v} is not valid`, 'give milliseconds (at least 1), e.g. TAILSHIP_SINK_UNHEALTHY_MS=60000, or leave it unset (60 s)');
  }
  return Number(v);
}
