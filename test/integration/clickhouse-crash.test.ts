// SPEC §4 + §10 through the real agent (`node dist/cli.js run --sink clickhouse+http://…?create=true`) into a real
// ClickHouse (Debian's 18.16): while a lumberjack writer rotates, the agent is SIGKILLed at seeded random moments
// and restarted on the same state dir. Batches in flight at a kill are sent again after the restart; the
// ReplacingMergeTree (event_time, event_id) collapses them, so under FINAL every written event is in the table
// exactly once: `SELECT count(), uniqExact(event_id) FROM … FINAL` = the number of events written. Once per run
// ClickHouse itself is SIGKILLed and restarted on its data while the agent ships.
import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { createWorkspace, killAllAgents, waitUntil, type Workspace } from '../helpers/agent-process.js';
import { createAuditGen, createRng } from '../helpers/audit-gen.js';
import { clickHouseAvailable, startClickHouse, type ClickHouseServer } from '../helpers/clickhouse-server.js';
import { createLumberjack } from '../helpers/lumberjack.js';

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
    const rng = createRng(compress ? 0xc1c1 : 0xc2c2);
    const gen = createAuditGen({ seed: compress ? 21 : 23 });
    let t = Date.UTC(2026, 10, 20, 8);
    const lj = createLumberjack({ path: ws.activePath, maxSizeBytes: 256 * 1024, maxBackups: 0, compress, now: () => new Date((t += 7)) });
    const written: string[] = [];
    const write = (n: number): void => {
      for (const l of gen.take(n)) {
        lj.write(l.line);
        written.push(l.key);
      }
    };
    const args = ['--sink', `clickhouse+${ch.url}/${table}?create=true`, '--batch-max-events', '50', '--batch-max-wait', '20'];
    const insertedRows = async (): Promise<number> => Number((await ch.query("SELECT sum(value) FROM system.events WHERE event = 'InsertedRows'")).trim() || '0');
    let insertedBefore = await insertedRows();
    let carried = 0;
    write(100);
    for (let round = 0; round < 5; round++) {
      const agent = ws.start(args);
      if (round === 0) {
        await waitUntil(() => fs.existsSync(`${ws!.stateDir}/checkpoints.json`), () => 'the first checkpoint', { agent });
      }
      const deadline = Date.now() + 150 + Math.floor(rng.next() * 600);
      while (Date.now() < deadline) {
        write(40);
        await new Promise((r) => setTimeout(r, 20));
      }
      if (round === 2) {
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
      }
      agent.kill('SIGKILL');
      await agent.waitExit(10_000);
    }
    for (const l of gen.drain()) {
      lj.write(l.line);
      written.push(l.key);
    }
    await lj.close();
    const last = ws.start([...args, '--exit-when-idle']);
    const exit = await last.waitExit(90_000);
    expect(exit.code, last.stderrTail()).toBe(0);

    const unique = new Set(written);
    expect(unique.size, 'the generator writes each (auditID, stage) once').toBe(written.length);
    const [count, uniq] = (await ch.query(`SELECT count(), uniqExact(event_id) FROM ${table} FINAL FORMAT TSV`)).trim().split('\t').map(Number);
    // Rows the server took in (system.events counts every inserted row, repeats included; merges do not lower it).
    const sent = carried + (await insertedRows()) - insertedBefore;
    console.log(`[clickhouse crash compress=${compress}] wrote ${written.length} events, ${lj.rotations.length} rotations, 5 SIGKILLs of the agent, 1 of ClickHouse; rows inserted ${sent}, under FINAL ${count} rows, ${uniq} event ids`);
    // Exactly the written events, each once: compare the keys too, not only the counts.
    const keys = (await ch.query(`SELECT concat(visitParamExtractString(event, 'auditID'), ' ', visitParamExtractString(event, 'stage')) FROM ${table} FINAL FORMAT TSV`))
      .trim()
      .split('\n');
    const missing = [...unique].filter((k) => !keys.includes(k));
    expect(lj.rotations.length, 'the writer rotated').toBeGreaterThan(3);
    expect(missing.slice(0, 10), 'events never stored').toEqual([]);
    expect({ count, uniq }).toEqual({ count: written.length, uniq: written.length });
    expect(new Set(keys).size).toBe(keys.length);
    // Usually > written (batches acknowledged but not yet checkpointed at a kill are sent again; 3864 and 2750
    // rows for ~3700 and ~2700 events in the runs when this was written); never fewer.
    expect(sent, 'rows the server took in').toBeGreaterThanOrEqual(written.length);
  },
  120_000,
);
