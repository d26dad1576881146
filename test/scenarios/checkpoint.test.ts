// Research §2.11 item 15: a corrupt, truncated or empty checkpoint file warns and falls back without a crash and
// without losing a line; a temporary file left behind by a crash mid-save is ignored.
// Black-box: the checkpoint file is whatever regular file the agent keeps at the top of its state dir.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertNoneMissing } from '../helpers/ndjson.js';
import { scenario } from './harness.js';

/** Regular files directly in the state dir (the checkpoint; spool and dead letters live in sub-directories). */
function stateFiles(stateDir: string): string[] {
  return fs
    .readdirSync(stateDir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(stateDir, e.name));
}

const corruptions: Array<{ name: string; apply: (file: string) => void }> = [
  { name: 'garbage', apply: (f) => fs.writeFileSync(f, Buffer.from('\u0000\u00ff{{{ not a checkpoint ]]\n', 'latin1')) },
  { name: 'truncated', apply: (f) => fs.truncateSync(f, Math.floor(fs.statSync(f).size / 2)) },
  { name: 'empty', apply: (f) => fs.truncateSync(f, 0) },
];

describe('checkpoint file damage (§2.11 #15)', () => {
  it.each(corruptions)('$name checkpoint: warns, falls back, no crash, nothing lost', async ({ name, apply }) => {
    const h = scenario(`checkpoint-${name}`);
    const lj = h.lumberjack();
    h.emit(lj, 100);
    h.start();
    await h.waitDelivered();
    await h.stop();
    const before = h.keysWritten();
    const files = stateFiles(h.ws.stateDir);
    expect(files.length, `the agent left no checkpoint file in ${h.ws.stateDir}`).toBeGreaterThan(0);
    for (const f of files) apply(f);

    const from = h.written.length;
    h.emit(lj, 50);
    const agent = h.start();
    await h.waitDelivered();
    await h.stop(); // exit 0: a damaged checkpoint is not fatal
    const warned = agent.warnings().filter((l) => /checkpoint|state/i.test(l.raw));
    expect(warned.length, `a warning about the damaged checkpoint; stderr:\n${agent.stderrTail()}`).toBeGreaterThan(0);

    // Falling back may re-read the old lines (duplicates), never skip any; the new ones arrive exactly once.
    const diff = assertNoneMissing(h.keysWritten(), h.deliveredKeys());
    const newKeys = new Set(h.keysWritten(from));
    const dupNew = diff.duplicated.filter(([k]) => newKeys.has(k));
    expect(dupNew, 'events written after the damage are delivered once').toEqual([]);
    expect(diff.duplicated.every(([k]) => before.includes(k))).toBe(true);
    console.log(`[checkpoint-${name}] fallback re-delivered ${diff.duplicateCount} of ${before.length} old events`);

    // And the checkpoint it writes now is good again: a third run delivers only what is new.
    const third = h.written.length;
    h.emit(lj, 10);
    const seen = h.deliveredKeys().length;
    h.start();
    await h.waitDelivered();
    await h.stop();
    const thirdRun = h.deliveredKeys().slice(seen);
    expect(thirdRun.sort()).toEqual(h.keysWritten(third).sort());
  });

  it('a temporary file left behind next to the checkpoint is ignored: exactly once', async () => {
    const h = scenario('checkpoint-tmp');
    const lj = h.lumberjack();
    h.emit(lj, 100);
    h.start();
    await h.waitDelivered();
    await h.stop();
    const files = stateFiles(h.ws.stateDir);
    expect(files.length, `the agent left no checkpoint file in ${h.ws.stateDir}`).toBeGreaterThan(0);
    // What a crash between "write tmp" and "rename" leaves: a half-written tmp file (under a few likely names).
    for (const f of files) {
      const half = fs.readFileSync(f).subarray(0, Math.max(1, Math.floor(fs.statSync(f).size / 2)));
      for (const tmp of [`${f}.tmp`, `${f}.tmp-12345`, `${f}.${process.pid}.tmp`]) fs.writeFileSync(tmp, half);
    }
    h.emit(lj, 50);
    h.start();
    await h.waitDelivered();
    await h.stop();
    h.assertExact();
  });
});
