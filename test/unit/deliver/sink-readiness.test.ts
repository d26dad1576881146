import { describe, expect, test } from 'vitest';
import { SINK_UNHEALTHY_MS, sinkUnhealthyMs } from '../../../src/deliver/sink-readiness.js';
import { ErrorCodes, TailshipError } from '../../../src/errors.js';

describe('/readyz and the sinks', () => {
  test('TAILSHIP_SINK_UNHEALTHY_MS: milliseconds, default 60 s; anything else is a config error with its code', () => {
    expect(sinkUnhealthyMs({})).toBe(SINK_UNHEALTHY_MS);
    expect(sinkUnhealthyMs({ TAILSHIP_SINK_UNHEALTHY_MS: '' })).toBe(60_000);
    expect(sinkUnhealthyMs({ TAILSHIP_SINK_UNHEALTHY_MS: '1500' })).toBe(1500);
    for (const bad of ['0', '-1', '10s', '1.5']) {
      let err: unknown;
      try {
        sinkUnhealthyMs({ TAILSHIP_SINK_UNHEALTHY_MS: bad });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TailshipError);
      expect((err as TailshipError).code).toBe(ErrorCodes.CONFIG_SINK_OPTION);
    }
  });
});
