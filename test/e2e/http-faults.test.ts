// Issue 4, "Must show": the real agent (node dist/cli.js run) against a real HTTP store on 127.0.0.1 that answers
// 503, 429 with Retry-After, resets connections, answers too slowly, goes down for a while, rejects some batches
// with 400 and finds some too large (413). Every (auditID, stage) must arrive: exactly once when the store dedupes
// on Idempotency-Key, at least once when it does not; rejected batches must be in the dead-letter spool, whole.
import { describe, expect, test, vi, type TestContext } from 'vitest';
import { createRng } from '../helpers/audit-gen.js';
import { createWorkspace, scrapeMetric, type AgentProcess } from '../helpers/agent-process.js';
import { startFakeHttpStore, type FaultAnswer, type FaultFn } from '../helpers/fake-http-store.js';
import { assertExactKeys, assertNoneMissing, logKey, type ShippedLog } from '../helpers/ndjson.js';
import { metricsPort, readCheckpoints, readDeadLetters, writeAuditFile } from './support.js';

/**
 * The store is down this long, once, in the middle of the run. The issue asks for 30 s; the agent's back-off is
 * capped at 30 s with full jitter, so after a 30 s outage the batches on the wire wait up to another ~30 s before
 * they try again: 30 s down costs 30–60 s of wall time. Both fault runs (dedupe and no dedupe) run concurrently
 * so that the file still takes about one outage plus its recovery.
 */
const DOWN_MS = 30_000;
/** The sink's request timeout (`?timeout=`); 'slow' answers come after it. */
const TIMEOUT_MS = 500;
const SLOW_MS = 1500;
const EVENTS = 3000;
const BATCH_EVENTS = 100;

/**
 * A workspace with the audit file written, a fake store, and the agent starter; all cleaned up when this test
 * finishes. Tests here run concurrently, so cleanup is per test (killAllAgents would kill the neighbours' agents).
 */
async function setUp(ctx: TestContext, name: string, seed: number, dedupe: boolean) {
  const ws = createWorkspace(name);
  const written = writeAuditFile(ws.activePath, EVENTS, seed);
  const store = await startFakeHttpStore({ dedupe });
  const agents: AgentProcess[] = [];
  ctx.onTestFinished(async () => {
    for (const a of agents) {
      if (a.exit) continue;
      a.resume();
      a.kill('SIGKILL');
      await a.waitExit(10_000).catch(() => undefined);
    }
    await store.close();
    ws.cleanup();
  });
  const start = (extra: string[]): AgentProcess => {
    const a = ws.start(['--sink', `${store.url}?timeout=${TIMEOUT_MS}`, '--batch-max-events', String(BATCH_EVENTS), '--batch-max-wait', '50', ...extra]);
    agents.push(a);
    return a;
  };
  return { ws, written, store, start };
}

const keysOfLogs = (logs: Iterable<Record<string, unknown>>): string[] => [...logs].map((l) => logKey(l as ShippedLog));

/**
 * A seeded mix of faults. The first requests get one of each kind for sure (so that every run exercises all of
 * them), request `downAt` takes the store down for `downMs`, the rest are drawn from the seeded generator.
 * Counts what it answered, and when each batch key arrived, to check Retry-After against the agent's log.
 */
function faultMix(seed: number, downAt: number, downMs: number) {
  const rng = createRng(seed);
  const answered: Record<string, number> = {};
  const arrivals = new Map<string, number[]>();
  const forced: FaultAnswer[] = [
    { status: 503, body: 'unavailable' },
    { status: 429, headers: { 'retry-after': '1' }, body: 'slow down' },
    'reset',
    `slow:${SLOW_MS}`,
  ];
  const kind = (a: FaultAnswer): string => (typeof a === 'string' ? a.replace(/:.*/, '') : String(a.status));
  const fn: FaultFn = ({ n, key }) => {
    arrivals.set(key, [...(arrivals.get(key) ?? []), Date.now()]);
    let a: FaultAnswer;
    if (n <= forced.length) a = forced[n - 1]!;
    else if (n === downAt) a = `down:${downMs}`;
    else {
      const r = rng.next();
      a =
        r < 0.1 ? { status: 503, body: 'unavailable' }
        : r < 0.18 ? { status: 429, headers: { 'retry-after': '1' }, body: 'slow down' }
        : r < 0.26 ? 'reset'
        : r < 0.34 ? `slow:${SLOW_MS}`
        : 'ok';
    }
    answered[kind(a)] = (answered[kind(a)] ?? 0) + 1;
    return a;
  };
  return { fn, answered, arrivals };
}

/**
 * For each 429 the agent got (its debug line for the failed attempt: `batch`, `statusCode`), the ms until that
 * batch next reached the store. Counted from the agent's side on purpose: a 429 the store wrote after the agent's
 * deadline (?timeout=, a loaded machine) is a timeout to the agent, retried on its own back-off (SPEC §3: timeouts
 * and network errors are retried with back-off; Retry-After can only be honoured once received). Counted from the
 * store's side, those came back 174-817 ms later in loaded full runs.
 */
function retryAfterWaits(agent: AgentProcess, arrivals: Map<string, number[]>): number[] {
  const waits: number[] = [];
  for (const l of agent.logs) {
    if (l.statusCode !== 429 || typeof l.batch !== 'string') continue;
    const at = Date.parse(String(l.time));
    const next = arrivals.get(l.batch)?.find((t) => t > at);
    expect(next, `batch ${l.batch} after its 429 at ${String(l.time)}`).toBeDefined();
    waits.push(next! - at);
  }
  return waits;
}

describe.concurrent('faults, outage', () => {
  test('store dedupes on Idempotency-Key: every (auditID, stage) exactly once through 503, 429, resets, slow answers and a 30 s outage', async (ctx) => {
    const { written, store, start } = await setUp(ctx, 'e2e-faults-dedupe', 101, true);
    const faults = faultMix(7, 12, DOWN_MS);
    store.setFault(faults.fn);
    const t0 = Date.now();
    // debug: each failed attempt is logged with its batch and the status the agent got (the Retry-After check)
    const agent = start(['--exit-when-idle', '--log-level', 'debug']);
    const exit = await agent.waitExit(150_000);
    const took = Date.now() - t0;
    const waits = retryAfterWaits(agent, faults.arrivals);
    console.log(
      `[e2e faults/dedupe] ${written.length} events, ${store.requests.length} requests, answers ${JSON.stringify(faults.answered)}, ` +
        `waits after a 429 the agent got ${JSON.stringify(waits)} ms, agent done in ${took} ms`,
    );
    expect(exit, agent.stderrTail()).toEqual({ code: 0, signal: null });
    // Every kind of fault really happened, the outage included.
    for (const k of ['503', '429', 'reset', 'slow', 'down']) expect(faults.answered[k], k).toBeGreaterThan(0);
    expect(store.requests.filter((r) => r.outcome === 'duplicate').length).toBeGreaterThan(0); // a slow answer was retried
    assertExactKeys(
      written.map((l) => l.key),
      keysOfLogs(store.logs()),
      'events in the deduping store',
    );
    // Retry-After: 1 was honoured: no batch came back sooner than a second after the agent got its 429.
    expect(waits.length, 'the agent got a 429 with Retry-After').toBeGreaterThan(0);
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(995);
    expect(store.invalid).toBe(0);
  }, 180_000);

  test('store without dedupe: none missing through the same faults (duplicates counted, only from retried batches)', async (ctx) => {
    const { written, store, start } = await setUp(ctx, 'e2e-faults-nodedupe', 202, false);
    const faults = faultMix(8, 12, DOWN_MS);
    store.setFault(faults.fn);
    const t0 = Date.now();
    const agent = start(['--exit-when-idle']);
    const exit = await agent.waitExit(150_000);
    const took = Date.now() - t0;
    expect(exit, agent.stderrTail()).toEqual({ code: 0, signal: null });
    for (const k of ['503', '429', 'reset', 'slow', 'down']) expect(faults.answered[k], k).toBeGreaterThan(0);
    const diff = assertNoneMissing(
      written.map((l) => l.key),
      keysOfLogs(store.logs()),
      'events in the store without dedupe',
    );
    // A duplicate can only come from a batch sent more than once (a slow answer the agent gave up on).
    const retriedBatchOf = new Map<string, string>();
    for (const b of store.received) for (const l of b.body.logs) retriedBatchOf.set(logKey(l as ShippedLog), b.key);
    for (const [key] of diff.duplicated) {
      const batch = retriedBatchOf.get(key)!;
      expect(store.keysSeen.get(batch), `batch ${batch} of duplicated event ${key}`).toBeGreaterThan(1);
    }
    console.log(
      `[e2e faults/no-dedupe] ${written.length} events, ${diff.deliveredTotal} stored, ${diff.duplicateCount} duplicates ` +
        `(${diff.duplicated.length} events twice or more), ${store.requests.length} requests, answers ${JSON.stringify(faults.answered)}, agent done in ${took} ms`,
    );
    expect(diff.duplicateCount).toBeGreaterThan(0); // the slow answers did store first
  }, 180_000);
});

describe.concurrent('rejections', () => {
  test('400 for two specific batches: they are in the dead-letter spool whole, everything else is delivered, the metric counts them', async (ctx) => {
    const { ws, written, store, start } = await setUp(ctx, 'e2e-faults-400', 303, true);
    const firstSeen: string[] = [];
    const rejected = new Map<string, string[]>(); // batch key → event keys the store saw in it
    const REJECT = new Set([2, 5]); // the 3rd and 6th distinct batches
    store.setFault(({ key, body }) => {
      if (!firstSeen.includes(key)) firstSeen.push(key);
      if (REJECT.has(firstSeen.indexOf(key))) {
        rejected.set(key, keysOfLogs(body?.logs ?? []));
        return { status: 400, body: `schema violation in batch ${key}` };
      }
      return 'ok';
    });
    const agent = start(['--listen', '127.0.0.1:0', '--log-level', 'info']);
    const port = await metricsPort(agent);
    const rejectedKeys = () => new Set([...rejected.values()].flat());

    await vi.waitFor(
      () => {
        if (agent.exit) throw new Error(`agent exited: ${agent.stderrTail()}`);
        const want = written.length - rejectedKeys().size;
        if (rejected.size !== REJECT.size || store.logs().length < want) throw new Error(`store has ${store.logs().length} of ${want} events`);
        if (readDeadLetters(ws.stateDir).length < REJECT.size) throw new Error('dead-letter spool not complete yet');
      },
      { timeout: 60_000, interval: 100 },
    );
    await vi.waitFor(async () => expect(await scrapeMetric(port, 'tailship_file_lag_bytes')).toBe(0), { timeout: 15_000, interval: 200 });
    const deadLettered = await scrapeMetric(port, 'tailship_batches_dead_lettered_total');
    await agent.stop();

    const records = readDeadLetters(ws.stateDir);
    expect(records.map((r) => r.batch.id).sort()).toEqual([...rejected.keys()].sort());
    expect(deadLettered).toBe(records.length);
    for (const r of records) {
      expect(r.statusCode).toBe(400);
      expect(r.kind).toBe('rejected');
      expect(r.responseBody).toBe(`schema violation in batch ${r.batch.id}`);
      // Whole: every event the store was offered in that batch, in the same order, nothing else.
      expect(keysOfLogs(r.logs)).toEqual(rejected.get(r.batch.id));
      expect(r.logs.length).toBe(r.batch.events);
    }
    // Stored + dead-lettered is every written event exactly once.
    for (const keys of rejected.values()) expect(keys.length).toBeGreaterThan(0);
    assertExactKeys(
      written.map((l) => l.key),
      [...keysOfLogs(store.logs()), ...records.flatMap((r) => keysOfLogs(r.logs))],
      'stored + dead-lettered events',
    );
    expect(keysOfLogs(store.logs()).filter((k) => rejectedKeys().has(k))).toEqual([]);
    // Dead-lettered batches count as settled: the whole file is committed.
    const size = written.reduce((n, l) => n + l.bytes, 0);
    expect(readCheckpoints(ws.stateDir).map((s) => s.offset)).toEqual([size]);
    console.log(`[e2e faults/400] ${records.length} batches (${rejectedKeys().size} events) dead-lettered, ${store.logs().length} events stored, metric ${deadLettered}`);
  }, 90_000);

  test('413 for batches over 25 logs: the agent splits them until they fit, and everything arrives exactly once', async (ctx) => {
    const { ws, written, store, start } = await setUp(ctx, 'e2e-faults-413', 404, true);
    const LIMIT = 25;
    let refused = 0;
    store.setFault(({ body }) => {
      if ((body?.logs.length ?? 0) > LIMIT) {
        refused++;
        return { status: 413, body: 'request entity too large' };
      }
      return 'ok';
    });
    const agent = start(['--exit-when-idle']);
    const exit = await agent.waitExit(60_000);
    expect(exit, agent.stderrTail()).toEqual({ code: 0, signal: null });
    expect(refused).toBeGreaterThan(0);
    for (const b of store.received) expect(b.body.logs.length).toBeLessThanOrEqual(LIMIT);
    // 100 → 50 → 25: the stored batches are halves of halves, keyed as such.
    expect(store.received.some((b) => /\.[01]\.[01]$/.test(b.key))).toBe(true);
    assertExactKeys(
      written.map((l) => l.key),
      keysOfLogs(store.logs()),
      'events after 413 splits',
    );
    expect(readDeadLetters(ws.stateDir)).toEqual([]);
    console.log(`[e2e faults/413] ${refused} requests refused as too large, ${store.received.length} batches stored`);
  }, 90_000);
});
