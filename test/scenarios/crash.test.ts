// Research §2.11 item 11 and SPEC §4 (at least once): while a lumberjack writer produces ≥ 2,000 events/s and
// rotates every ~1 MiB, the agent is SIGKILLed at random (seeded) moments, six times, and restarted on the same
// state dir each time. At the end every written event has arrived. Duplicates are allowed (from outside we cannot
// see which batches were acknowledged) but bounded.
//
// Duplicate bound, stated: per kill at most what can be in flight, taken as SPEC's default batch of 4096 events
// × 4 batches in flight = 16,384 events; the test fails above KILLS × 16,384. (With the file sink an offset is
// committed right after the write, and checkpoints are saved about once a second, so expect far fewer.)
//
// Loss: maxBackups is large enough (10 × 1 MiB ≈ 4 s of writing) that a restarted agent is never that far behind.
// Should events be missing anyway, they are accepted only if they were in backups the mill deleted AND the agent
// logged a loss; anything else fails.
import { describe, expect, it } from 'vitest';
import { createRng } from '../helpers/audit-gen.js';
import { diffKeys, formatDiff } from '../helpers/ndjson.js';
import { scenario, sleep } from './harness.js';

const RATE = 2500; // events per second written
const KILLS = 6;
const BATCH_MAX_EVENTS = 4096; // SPEC default
const IN_FLIGHT = 4;

describe('SIGKILL at random moments during rotation (§2.11 #11)', () => {
  it.each([
    { compress: false, seed: 0x5eed01 },
    { compress: true, seed: 0x5eed02 },
  ])('compress=$compress: nothing lost, duplicates bounded', async ({ compress, seed }) => {
    const h = scenario(`crash-${compress}`, { seed });
    const lj = h.lumberjack({ maxSizeBytes: 1024 * 1024, maxBackups: 10, compress });
    const rng = createRng(seed);
    lj.write('');

    // Writer: keeps the written count at RATE × elapsed, in small steps, until told to stop.
    let writing = true;
    const t0 = Date.now();
    const writer = (async () => {
      while (writing) {
        const due = Math.floor(((Date.now() - t0) / 1000) * RATE);
        const n = due - h.written.length;
        if (n > 0) h.emit(lj, Math.min(n, 500));
        await sleep(4);
      }
    })();

    const kills: Array<{ afterMs: number; written: number }> = [];
    // --backfill: should a kill come before the first checkpoint was saved, the next start is again a "first start",
    // and what rotated meanwhile must still be read (without it SPEC would let those backups be skipped).
    for (let k = 0; k < KILLS; k++) {
      const agent = h.start(['--backfill']);
      const afterMs = rng.int(250, 2000);
      await sleep(afterMs);
      if (agent.exit) throw new Error(`agent exited on its own (code ${agent.exit.code}) before kill ${k + 1}:\n${agent.stderrTail()}`);
      agent.kill('SIGKILL');
      await agent.waitExit();
      kills.push({ afterMs, written: h.written.length });
    }
    writing = false;
    await writer;
    await lj.millIdle();
    const seconds = (Date.now() - t0) / 1000;

    // Final run: the writer has stopped; wait for everything, then a clean stop.
    const final = h.start(['--backfill']);
    const expected = h.keysWritten();
    let waitError: unknown;
    try {
      await h.waitDelivered(expected, 90_000);
    } catch (err) {
      waitError = err;
    }
    if (!final.exit) await final.stop();

    const delivered = h.deliveredKeys();
    const diff = diffKeys(expected, delivered);
    const lostFiles = new Set(lj.removed.map((f) => f.replace(/\.gz$/, '')));
    const lossLogged = h.agents.some((a) => a.warnings().some((l) => /lost/i.test(l.raw)));
    console.log(
      `[crash compress=${compress}] wrote ${expected.length} events in ${seconds.toFixed(1)} s ` +
        `(${Math.round(expected.length / seconds)}/s), ${lj.rotations.length} rotations, ${lj.removed.length} backups deleted by maxBackups; ` +
        `${KILLS} SIGKILLs after ${kills.map((k) => `${k.afterMs}ms`).join(', ')}; delivered ${delivered.length}, ` +
        `missing ${diff.missingCount}, duplicates ${diff.duplicateCount} (bound ${KILLS * BATCH_MAX_EVENTS * IN_FLIGHT})`,
    );

    if (diff.missing.length) {
      // Accept only counted loss: every missing event sat in a backup the mill deleted, and the agent said so.
      const missing = new Set(diff.missing.map(([k]) => k));
      const unexplained = h.written.filter((w) => {
        if (!missing.has(w.key)) return false;
        const backup = w.generation < lj.rotations.length ? lj.rotations[w.generation]!.backup : undefined;
        return !(backup && lostFiles.has(backup) && lossLogged);
      });
      if (unexplained.length) {
        throw new Error(
          `events lost after SIGKILL + restart (${unexplained.length} not explained by a logged maxBackups deletion)\n${formatDiff(diff)}` +
            (waitError ? `\n${String(waitError)}` : ''),
        );
      }
      console.log(`[crash compress=${compress}] ${diff.missingCount} events were in deleted backups and the agent logged the loss`);
    }
    expect(diff.unexpected, 'foreign events in the output').toEqual([]);
    expect(h.reader.garbage, 'sink lines that are not JSON objects').toEqual([]);
    expect(lj.rotations.length, 'the writer rotated every ~1 MiB').toBeGreaterThan(5);
    expect(diff.duplicateCount).toBeLessThanOrEqual(KILLS * BATCH_MAX_EVENTS * IN_FLIGHT);
  }, 150_000);
});
