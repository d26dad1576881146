// Research §2.11 item 5 (--audit-log-compress): a backup gzipped and unlinked while the agent is stopped or
// lagging is finished from inside the .gz; a .gz still being written, and a plain backup next to its complete
// .gz, never cause a duplicate or a half-read stream.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MillStep } from '../helpers/lumberjack.js';
import { scenario } from './harness.js';

/** A gate the mill waits at: `reached` resolves when the mill gets there, `release()` lets it go on. */
function gate(): { hook: (s: MillStep) => Promise<void>; reached: Promise<MillStep>; release: () => void } {
  let onReach!: (s: MillStep) => void;
  let release!: () => void;
  const reached = new Promise<MillStep>((r) => (onReach = r));
  const released = new Promise<void>((r) => (release = r));
  let used = false;
  return {
    hook: async (s) => {
      if (used) return; // only the first compression waits
      used = true;
      onReach(s);
      await released;
    },
    reached,
    release,
  };
}

const plainBackups = (dir: string): string[] => fs.readdirSync(dir).filter((f) => /^kubernetes-.*\.audit$/.test(f));
const gzBackups = (dir: string): string[] => fs.readdirSync(dir).filter((f) => f.endsWith('.audit.gz'));

describe('compressed backups (§2.11 #5)', () => {
  it.each([1, 3])('%i backup(s) gzipped and unlinked while the agent is stopped: resumes inside the .gz', async (rotations) => {
    const h = scenario(`gz-stopped-${rotations}`);
    const lj = h.lumberjack({ maxSizeBytes: 1024 * 1024, maxBackups: 0, compress: true });
    h.emit(lj, 200);
    h.start();
    await h.waitDelivered();
    await h.stop();

    const resumedFrom = h.written.length;
    h.emit(lj, 150); // unread, after the checkpoint: the agent must skip to its offset inside the .gz
    for (let i = 0; i < rotations; i++) {
      lj.rotate();
      h.emit(lj, 100);
    }
    await lj.millIdle();
    expect(plainBackups(h.ws.logDir), 'no plain backup left').toEqual([]);
    expect(gzBackups(h.ws.logDir).length).toBe(rotations);

    h.start();
    await h.waitDelivered();
    await h.stop();
    h.assertExact();
    h.assertOrder(h.keysWritten(resumedFrom));
  });

  it.each([1, 2])('a lagging agent (SIGSTOP), its file rotated %i time(s), gzipped and unlinked meanwhile, reads it all', async (rotations) => {
    const h = scenario(`gz-lagging-${rotations}`);
    const lj = h.lumberjack({ maxSizeBytes: 1024 * 1024, maxBackups: 0, compress: true });
    h.emit(lj, 200);
    const agent = h.start();
    await h.waitDelivered();
    agent.pause();
    h.emit(lj, 300);
    for (let i = 0; i < rotations; i++) {
      lj.rotate();
      h.emit(lj, 100);
    }
    await lj.millIdle();
    expect(plainBackups(h.ws.logDir)).toEqual([]);
    expect(gzBackups(h.ws.logDir).length).toBe(rotations);
    agent.resume();
    await h.waitDelivered();
    await h.stop();
    h.assertExact();
    h.assertOrderPerFile();
    h.noteCrossFileOrder('compress');
  });

  it('a .gz still being written (plain backup present) when the agent starts: no garbage, no duplicate', async () => {
    const h = scenario('gz-partial');
    const g = gate();
    const lj = h.lumberjack({ maxSizeBytes: 1024 * 1024, maxBackups: 0, compress: true, hooks: { gzPartial: g.hook } });
    h.emit(lj, 200);
    h.start();
    await h.waitDelivered();
    await h.stop();

    h.emit(lj, 200);
    lj.rotate();
    h.emit(lj, 100);
    const step = await g.reached;
    expect(fs.existsSync(step.plain) && fs.existsSync(step.gz), 'plain backup and a partial .gz both exist').toBe(true);

    h.start(); // sees kubernetes-<ts>.audit and a truncated kubernetes-<ts>.audit.gz
    await h.waitDelivered();
    g.release();
    await lj.millIdle();
    expect(fs.existsSync(step.plain), 'the mill removed the plain backup').toBe(false);
    h.emit(lj, 50);
    await h.waitDelivered();
    await h.stop();

    // And a restart now that only the complete .gz is left must not read it again.
    h.emit(lj, 20);
    h.start();
    await h.waitDelivered();
    await h.stop();
    h.assertExact();
    h.assertOrderPerFile();
    h.noteCrossFileOrder('compress');
  });

  it('plain backup and its complete .gz both present: read once, also across a restart', async () => {
    const h = scenario('gz-both');
    const g = gate();
    const lj = h.lumberjack({ maxSizeBytes: 1024 * 1024, maxBackups: 0, compress: true, hooks: { gzComplete: g.hook } });
    h.emit(lj, 200);
    const agent = h.start();
    await h.waitDelivered();
    agent.pause(); // lagging: the backup is renamed with unread events while the agent is frozen
    h.emit(lj, 200);
    lj.rotate();
    h.emit(lj, 100);
    const step = await g.reached;
    expect(fs.existsSync(step.plain) && fs.existsSync(step.gz), 'plain backup and complete .gz both exist').toBe(true);
    agent.resume();
    await h.waitDelivered();
    await h.stop();

    // Restart while both are still there, then let the mill finish while the agent runs.
    h.emit(lj, 30);
    h.start();
    await h.waitDelivered();
    g.release();
    await lj.millIdle();
    h.emit(lj, 30);
    await h.waitDelivered();
    await h.stop();
    h.assertExact();
    h.assertOrderPerFile();
    h.noteCrossFileOrder('compress');
  });
});
