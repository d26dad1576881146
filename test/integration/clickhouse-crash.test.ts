// SPEC §4 + §10 through the real agent (`node dist/cli.js run --sink clickhouse+http://…?create=true`) into a real
// ClickHouse (Debian's 18.16): while a lumberjack writer rotates, the agent is SIGKILLed at seeded random moments
// and restarted on the same state dir. Batches in flight at a kill are sent again after the restart; the
// ReplacingMergeTree (event_time, event_id) collapses them, so under FINAL every written event is in the table
// exactly once: `SELECT count(), uniqExact(event_id) FROM … FINAL` = the number of events written. Once per run
// ClickHouse itself is SIGKILLed and restarted on its data while the agent ships.
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { createWorkspace, killAllAgents, type Workspace } from '../helpers/agent-process.js';
import { createRng } from '../helpers/audit-gen.js';
import { clickHouseAvailable, startClickHouse, type ClickHouseServer } from '../helpers/clickhouse-server.js';
import { missingKeys, runCrashLoop } from '../helpers/crash-loop.js';

const available = clickHouseAvailable();
let ch: ClickHouseServer;
let ws: Workspace | undefined;
beforeAll(async () => {
  if (available) ch = await startClickHouse();
}, 60_000);
afterAll(async () => {
  await ch?.stop();
});
afterEach(async () => {
  await killAllAgents();
  if (process.env.KEEP) console.log('kept', ws?.root);
  else ws?.cleanup();
});

test.skipIf(!available).each([{ compress: false }, { compress: true }])(
  'SIGKILL at random moments while rotating (compress=$compress): every event is in ClickHouse exactly once under FINAL',
  async ({ compress }) => {
    const table = `torture.audit_${compress ? 'gz' : 'plain'}`;
    ws = createWorkspace(`clickhouse-crash-${compress}`);
    const args = ['--sink', `clickhouse+${ch.url}/${table}?create=true`, '--batch-max-events', '50', '--batch-max-wait', '20'];
    const insertedRows = async (): Promise<number> => Number((await ch.query("SELECT sum(value) FROM system.events WHERE event = 'InsertedRows'")).trim() || '0');
    let insertedBefore = await insertedRows();
    let carried = 0;
    const { written, rotations } = await runCrashLoop({
      ws,
      rng: createRng(compress ? 0xc1c1 : 0xc2c2),
      seed: compress ? 21 : 23,
      compress,
      args,
      rounds: 5,
      killAfter: { minMs: 150, spanMs: 600 },
      beforeKill: async (agent, round, write) => {
        if (round !== 2) return;
        // The store crashes too (SIGKILL, restart on its data): what it acknowledged must survive, what was in
        // flight is retried by the agent.
        // system.events restarts from 0: carry the count over (agent frozen meanwhile, so no insert is missed).
        agent.pause();
        await new Promise((r) => setTimeout(r, 300));
        carried += (await insertedRows()) - insertedBefore;
        insertedBefore = 0;
        await ch.restart();
        agent.resume();
        write(40);
      },
      lastTimeoutMs: 90_000,
    });

    const unique = new Set(written);
    expect(unique.size, 'the generator writes each (auditID, stage) once').toBe(written.length);
    const [count, uniq] = (await ch.query(`SELECT count(), uniqExact(event_id) FROM ${table} FINAL FORMAT TSV`)).trim().split('\t').map(Number);
    // Rows the server took in (system.events counts every inserted row, repeats included; merges do not lower it).
    const sent = carried + (await insertedRows()) - insertedBefore;
    console.log(`[clickhouse crash compress=${compress}] wrote ${written.length} events, ${rotations} rotations, 5 SIGKILLs of the agent, 1 of ClickHouse; rows inserted ${sent}, under FINAL ${count} rows, ${uniq} event ids`);
    // Exactly the written events, each once: compare the keys too, not only the counts.
    const keys = (await ch.query(`SELECT concat(visitParamExtractString(event, 'auditID'), ' ', visitParamExtractString(event, 'stage')) FROM ${table} FINAL FORMAT TSV`))
      .trim()
      .split('\n');
    const missing = missingKeys(unique, new Set(keys));
    expect(rotations, 'the writer rotated').toBeGreaterThan(3);
    expect(missing.slice(0, 10), 'events never stored').toEqual([]);
    expect({ count, uniq }).toEqual({ count: written.length, uniq: written.length });
    expect(new Set(keys).size).toBe(keys.length);
    // Usually > written (batches acknowledged but not yet checkpointed at a kill are sent again; 3864 and 2750
    // rows for ~3700 and ~2700 events in the runs when this was written); never fewer.
    expect(sent, 'rows the server took in').toBeGreaterThanOrEqual(written.length);
  },
  120_000,
);
