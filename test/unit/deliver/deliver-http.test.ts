/**
 * Deliverer + http sink + fake store, on real sockets and real (shortened) timers: the store answers a seeded
 * random mix of 503, 429 with Retry-After, 500, resets, slow answers within and beyond the timeout, a short
 * outage, and permanent 400s for a few batches.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createDeadLetterSpool } from '../../../src/deliver/dead-letter.js';
import { createDeliverer } from '../../../src/deliver/deliverer.js';
import { createHttpSink } from '../../../src/deliver/sinks/http-sink.js';
import { createMetrics } from '../../../src/observe/metrics.js';
import { silentLogger } from '../../../src/observe/log.js';
import { startFakeHttpStore, type FaultAnswer, type FakeHttpStore } from '../../helpers/fake-http-store.js';
import { makeBatch, seeded, tempDir } from './support.js';

const BATCHES = 500;
const PER_BATCH = 4;
const TIMEOUT_MS = 150;

let dir: string;
let cleanup: () => Promise<void>;
let store: FakeHttpStore;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => {
  await store?.close();
  await cleanup();
});

/** Seeded per-request answers; batches whose id ends in `/rejected` are refused for good. */
function chaos(seed: number) {
  const rand = seeded(seed);
  let outage = false;
  return ({ n, key }: { n: number; key: string }): FaultAnswer => {
    if (key.endsWith('/rejected')) return { status: 400, body: '{"error":"field objectRef is invalid"}' };
    if (n === 150 && !outage) {
      outage = true;
      return 'down:300';
    }
    const r = rand();
    if (r < 0.5) return 'ok';
    if (r < 0.62) return { status: 503, body: 'busy' };
    if (r < 0.72) return { status: 429, headers: { 'retry-after': rand() < 0.5 ? '1' : new Date(Date.now() + 1000).toUTCString() } };
    if (r < 0.77) return { status: 500 };
    if (r < 0.85) return 'reset';
    if (r < 0.92) return 'slow:30';
    return `slow:${TIMEOUT_MS * 3}`; // stored, but the answer comes after the client gave up: a duplicate without dedupe
  };
}

async function run(dedupe: boolean, seed: number) {
  store = await startFakeHttpStore({ dedupe });
  store.setFault(chaos(seed));
  const metrics = createMetrics();
  const logger = silentLogger();
  const sink = createHttpSink(new URL(`${store.url}?timeout=${TIMEOUT_MS}`), { logger, env: {} });
  const deadLetter = createDeadLetterSpool(dir, { logger, metrics });
  const deliverer = createDeliverer({
    sink,
    deadLetter,
    metrics,
    logger,
    random: seeded(seed + 1),
    // Real timers, shortened: Retry-After of 1 s is honoured up to 20 ms here.
    backoff: { baseMs: 2, capMs: 20, retryAfterCapMs: 20 },
  });
  const batches = Array.from({ length: BATCHES }, (_, i) =>
    makeBatch({ n: PER_BATCH, first: i * PER_BATCH, id: `stream-1:${i * 400}-${(i + 1) * 400}${i % 97 === 13 ? '/rejected' : ''}` }),
  );
  const outcomes = await Promise.all(batches.map((b) => deliverer.deliver(b)));
  deliverer.close();
  await sink.close();
  await deadLetter.close();
  const rejected = new Set(batches.filter((b) => b.id.endsWith('/rejected')).flatMap((b) => b.events.map((e) => JSON.parse(e.raw).seq as number)));
  return { batches, outcomes, rejected, metrics };
}

async function deadLettered(): Promise<number[]> {
  const text = await readFile(join(dir, 'dead-letter', 'audit-store.ndjson'), 'utf8');
  return text.trimEnd().split('\n').flatMap((l) => JSON.parse(l).logs.map((x: { seq: number }) => x.seq));
}

describe('deliverer + http sink against a misbehaving store', () => {
  test('with a deduplicating store every event arrives exactly once; rejected batches are in the spool whole', async () => {
    const { outcomes, rejected, metrics } = await run(true, 42);
    const all = Array.from({ length: BATCHES * PER_BATCH }, (_, i) => i);
    const stored = store.logs().map((l) => l.seq as number);
    // Exactly once: no duplicates, nothing missing (except what the store refused for good).
    expect(stored.length).toBe(new Set(stored).size);
    expect(new Set([...stored, ...rejected])).toEqual(new Set(all));
    expect(stored.filter((s) => rejected.has(s))).toEqual([]);
    expect((await deadLettered()).sort((a, b) => a - b)).toEqual([...rejected].sort((a, b) => a - b));
    expect(outcomes.filter((o) => o === 'dead-lettered')).toHaveLength(rejected.size / PER_BATCH);
    // The store really misbehaved, and retries were what got the events through.
    const outcomesSeen = new Set(store.requests.map((r) => r.outcome));
    for (const o of ['stored', '503', '429', '500', 'reset', 'down']) expect(outcomesSeen).toContain(o);
    expect(store.requests.filter((r) => r.outcome === 'duplicate').length).toBeGreaterThan(0);
    expect((await metrics.eventsShipped.get()).values[0].value).toBe(stored.length);
    expect((await metrics.batchesFailed.get()).values[0].value).toBeGreaterThan(BATCHES / 3);
  });

  test('without dedupe nothing is lost (duplicates only from answers that came too late)', async () => {
    const { outcomes, rejected } = await run(false, 7);
    const stored = store.logs().map((l) => l.seq as number);
    const have = new Set(stored);
    const missing = Array.from({ length: BATCHES * PER_BATCH }, (_, i) => i).filter((s) => !rejected.has(s) && !have.has(s));
    expect(missing).toEqual([]);
    expect(outcomes.filter((o) => o === 'delivered')).toHaveLength(BATCHES - rejected.size / PER_BATCH);
    expect(stored.length).toBeGreaterThan(new Set(stored).size);
  });
});
