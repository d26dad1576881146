import { afterEach, expect, test } from 'vitest';
import fs from 'node:fs';
import { createWorkspace, killAllAgents, waitUntil, type Workspace } from '../helpers/agent-process.js';
import { createAuditGen, createRng } from '../helpers/audit-gen.js';
import { startFakeHttpStore, type FakeHttpStore } from '../helpers/fake-http-store.js';
import { createLumberjack } from '../helpers/lumberjack.js';

// SPEC §3: the Idempotency-Key is the same for the same bytes of the same file across retries AND restarts.
// tailship persists the byte range of every batch before sending it, so after a SIGKILL the re-read bytes are
// cut into the same batches again: a store that dedupes on the key then holds every event exactly once.
let ws: Workspace | undefined;
let store: FakeHttpStore | undefined;
afterEach(async () => {
  await killAllAgents();
  await store?.close();
  if (process.env.KEEP) console.log("kept", ws?.root); else ws?.cleanup();
});

test.each([{ compress: false }, { compress: true }])(
  'SIGKILL at random moments while rotating (compress=$compress): a deduping store holds every event exactly once',
  async ({ compress }) => {
    ws = createWorkspace(`crash-dedupe-${compress}`);
    store = await startFakeHttpStore({ dedupe: true });
    const rng = createRng(compress ? 7 : 11);
    // Slow answers keep batches in flight at the moment of a kill (the store commits, then answers late).
    store.setFault(() => (rng.next() < 0.3 ? 'slow:400' : 'ok'));
    const gen = createAuditGen({ seed: compress ? 3 : 5 });
    let t = Date.UTC(2026, 10, 20, 8);
    const lj = createLumberjack({ path: ws.activePath, maxSizeBytes: 256 * 1024, maxBackups: 0, compress, now: () => new Date((t += 7)) });
    const written: string[] = [];
    const write = (n: number): void => {
      for (const l of gen.take(n)) {
        lj.write(l.line);
        written.push(l.key);
      }
    };
    const args = ['--sink', store.url, '--batch-max-events', '50', '--batch-max-wait', '20'];
    write(100);
    for (let round = 0; round < 5; round++) {
      const agent = ws.start([...args, '--log-level', 'info']);
      if (round === 0) {
        // The first start must have happened (its checkpoint written): before it, backups are pre-existing
        // history that only --backfill ships.
        await waitUntil(() => fs.existsSync(`${ws!.stateDir}/checkpoints.json`), () => 'the first checkpoint', { agent });
      }
      // The random moment counts from when the agent runs, not from the spawn (module loading is no moment to test).
      await waitUntil(() => agent.logs.some((l) => l.msg === 'tailship started'), () => `agent ${round + 1} to start`, { agent });
      const killAfter = 100 + Math.floor(rng.next() * 600);
      const deadline = Date.now() + killAfter;
      while (Date.now() < deadline) {
        write(40);
        await new Promise((r) => setTimeout(r, 20));
      }
      agent.kill('SIGKILL');
      await agent.waitExit(10_000);
    }
    for (const l of gen.drain()) {
      lj.write(l.line);
      written.push(l.key);
    }
    await lj.close();
    store.setFault(undefined);
    const last = ws.start([...args, '--exit-when-idle']);
    const exit = await last.waitExit(90_000);
    expect(exit.code, last.stderrTail()).toBe(0);

    const counts = new Map<string, number>();
    for (const log of store.logs()) {
      const key = `${String(log.auditID)} ${String(log.stage)}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const expected = new Map<string, number>();
    for (const k of written) expected.set(k, (expected.get(k) ?? 0) + 1);
    const missing = [...expected.keys()].filter((k) => !counts.has(k));
    const dup = [...counts.entries()].filter(([k, n]) => n > (expected.get(k) ?? 0));
    if (process.env.KEEP) {
      fs.writeFileSync(`${ws.root}/missing.txt`, missing.join('\n'));
      fs.writeFileSync(`${ws.root}/requests.json`, JSON.stringify(store.requests.map((r) => ({ n: r.n, key: r.key, outcome: r.outcome }))));
      fs.writeFileSync(`${ws.root}/stderr.txt`, last.stderrLines.join('\n'));
    }
    expect(lj.rotations.length, 'the writer rotated').toBeGreaterThan(3);
    expect(missing, 'events never stored').toEqual([]);
    expect(dup, 'events stored twice under different keys').toEqual([]);
    expect(store.requests.some((r) => r.outcome === 'duplicate'), 'some batches were re-sent after a kill').toBe(true);
  },
  // No retry. The rare duplicates under other keys had two causes, both fixed and unit-tested: the save right
  // after a restart's first discovery dropped the batch ends not re-read yet, so a second kill let the next start
  // cut already-sent bytes otherwise (test/unit/run/ack-path.test.ts); and the mill unlinking a plain backup
  // while a restart looked made its .gz look new (test/unit/tail/restart-race.test.ts).
  { timeout: 120_000 },
);
