import { describe, expect, test } from 'vitest';
import { parseRetryAfter } from '../../../src/deliver/retry-after.js';
import { backoffDelay } from '../../../src/deliver/retry-policy.js';
import type { SinkErrorKind } from '../../../src/deliver/sink.js';

const fixed = (x: number) => () => x;

describe('backoffDelay', () => {
  test.each<[string, number, SinkErrorKind, number | undefined, number, number]>([
    // name, attempt, kind, retryAfterMs, rand, expected
    ['first retry, top of the jitter range', 1, 'retryable', undefined, 0.999, 499],
    ['first retry, no jitter draw', 1, 'retryable', undefined, 0, 0],
    ['second retry doubles the range', 2, 'retryable', undefined, 0.5, 500],
    ['third retry', 3, 'retryable', undefined, 0.5, 1000],
    ['seventh retry reaches 32 s, capped at 30 s', 7, 'retryable', undefined, 0.5, 15_000],
    ['far attempts stay capped (no overflow)', 10_000, 'retryable', undefined, 0.999, 29_970],
    ['attempt 0 is treated as the first', 0, 'retryable', undefined, 0.999, 499],
    ['Retry-After above the jitter wins', 1, 'retryable', 7_000, 0.5, 7_000],
    ['Retry-After below the jitter does not shorten it', 8, 'retryable', 1_000, 0.5, 15_000],
    ['Retry-After is capped at 5 min', 1, 'retryable', 86_400_000, 0.5, 300_000],
    ['Retry-After 0 means no extra wait', 2, 'retryable', 0, 0.5, 500],
    ['blocked: 30 s first', 1, 'blocked', undefined, 0.5, 30_000],
    ['blocked: then 60 s', 2, 'blocked', undefined, 0.5, 60_000],
    ['blocked: 120 s', 3, 'blocked', undefined, 0.5, 120_000],
    ['blocked: capped at 5 min', 5, 'blocked', undefined, 0.5, 300_000],
    ['blocked: capped at 5 min forever', 500, 'blocked', undefined, 0.5, 300_000],
    ['blocked: jitter is only ±10 %', 1, 'blocked', undefined, 0, 27_000],
    ['blocked: honours a longer Retry-After', 1, 'blocked', 120_000, 0.5, 120_000],
    ['rejected is never retried as is', 3, 'rejected', undefined, 0.5, 0],
    ['too-large is split, not retried', 3, 'too-large', 9_000, 0.5, 0],
  ])('%s', (_name, attempt, kind, retryAfterMs, rand, expected) => {
    expect(backoffDelay(attempt, { kind, retryAfterMs }, fixed(rand))).toBe(expected);
  });

  test('options change base and cap', () => {
    expect(backoffDelay(3, { kind: 'retryable' }, fixed(0.5), { baseMs: 10, capMs: 25 })).toBe(12);
    expect(backoffDelay(2, { kind: 'blocked' }, fixed(0.5), { blockedBaseMs: 1000, blockedCapMs: 1500 })).toBe(1500);
    expect(backoffDelay(1, { kind: 'retryable', retryAfterMs: 9_000 }, fixed(0.5), { retryAfterCapMs: 2_000 })).toBe(2_000);
  });

  test('full jitter spreads delays over [0, range) for the same attempt', () => {
    const delays = Array.from({ length: 100 }, (_, i) => backoffDelay(4, { kind: 'retryable' }, fixed(i / 100)));
    expect(new Set(delays).size).toBe(100);
    expect(Math.min(...delays)).toBe(0);
    expect(Math.max(...delays)).toBe(3960);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
  test.each<[string, string | string[] | undefined, number | undefined]>([
    ['delay-seconds', '5', 5_000],
    ['zero seconds', '0', 0],
    ['seconds with blanks', ' 12 ', 12_000],
    ['HTTP date 7 s ahead', 'Wed, 21 Oct 2015 07:28:07 GMT', 7_000],
    ['HTTP date in the past', 'Wed, 21 Oct 2015 07:27:00 GMT', 0],
    ['first of several values', ['3', '9'], 3_000],
    ['absent', undefined, undefined],
    ['empty', '', undefined],
    ['negative', '-3', undefined],
    ['fraction', '1.5', undefined],
    ['junk', 'soon', undefined],
  ])('%s', (_name, value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});
