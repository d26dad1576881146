// Research §2.11 items 3 and 4, and glob inputs: lumberjack rotation (rename + create with O_TRUNC) at a high rate
// while the agent runs, and 1, 2 or many rotations while it is stopped; a glob that also matches the backups.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, waitReady } from '../helpers/agent-process.js';
import { createLumberjack } from '../helpers/lumberjack.js';
import { scenario, sleep } from './harness.js';

describe('rotation while running (§2.11 #3)', () => {
  it.each([{ compress: false }, { compress: true }])('rotates every 64 KiB at full speed, compress=$compress: every event once, in order within each file', async ({ compress }) => {
    const h = scenario(`rotate-fast-${compress}`, { largeBytes: [16 * 1024, 48 * 1024] });
    const lj = h.lumberjack({ maxSizeBytes: 64 * 1024, maxBackups: 0, compress });
    // Let the agent settle on the file first: backups made before its first look are history (no --backfill).
    h.emit(lj, 10);
    h.start();
    await h.waitDelivered();
    // ~6 MB in bursts of 200 events, yielding between bursts so that the mill and the agent's reads interleave.
    for (let burst = 0; burst < 30; burst++) {
      h.emit(lj, 200);
      await sleep(1);
    }
    await h.waitDelivered(undefined, 40_000);
    await lj.millIdle();
    await h.stop();
    expect(lj.rotations.length, 'the writer rotated many times').toBeGreaterThan(50);
    if (compress) expect(fs.readdirSync(h.ws.logDir).filter((f) => f.endsWith('.gz')).length).toBe(lj.rotations.length);
    h.assertExact();
    h.assertOrderPerFile();
    h.noteCrossFileOrder(`rotate-fast compress=${compress}`);
  });
});

describe('rotation while stopped (§2.11 #4)', () => {
  it.each([1, 2, 12])('%i rotation(s) while the agent is down: resumes in the backup, then newer ones in order', async (rotations) => {
    const h = scenario(`rotate-stopped-${rotations}`);
    const lj = h.lumberjack({ maxSizeBytes: 1024 * 1024, maxBackups: 0 });
    h.emit(lj, 100);
    h.start();
    await h.waitDelivered();
    await h.stop();

    const resumedFrom = h.written.length;
    h.emit(lj, 60); // unread tail of the checkpointed file: it is renamed with these inside
    for (let i = 0; i < rotations; i++) {
      lj.rotate();
      h.emit(lj, 40);
    }
    expect(lj.rotations.length).toBe(rotations);

    h.start();
    await h.waitDelivered();
    await h.stop();
    h.assertExact();
    h.assertOrder(h.keysWritten(resumedFrom));
    // __path__ names a file of this input (the backup or the active name; SPEC: as the input names it).
    for (const log of h.logs()) expect(log.__tag__?.__path__).toMatch(/^.*\/kubernetes[^/]*\.audit$/);
  });
});

describe('glob inputs', () => {
  it('a glob that matches lumberjack backups (kubernetes-<ts>.audit) never reads a backup twice', async () => {
    const h = scenario('glob', { largeBytes: [16 * 1024, 40 * 1024] });
    h.ws.writeEnv(path.join(h.ws.logDir, '*.audit'));
    const a = h.lumberjack({ maxSizeBytes: 64 * 1024, maxBackups: 0 });
    const b = createLumberjack({ path: path.join(h.ws.logDir, 'other.audit'), maxSizeBytes: 48 * 1024, maxBackups: 0, compress: false });
    const writeBoth = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i += 50) {
        h.emit(a, 50);
        for (const l of h.gen.take(50)) {
          b.write(l.line);
          h.record(l.key, l.line);
        }
        await sleep(1);
      }
    };
    a.write('');
    b.write('');
    h.start();
    await writeBoth(50); // no rotation yet: the agent settles on both files
    await h.waitDelivered();
    await writeBoth(1000);
    await h.waitDelivered();
    await h.stop();

    await writeBoth(300); // rotations of both while stopped
    a.rotate();
    b.rotate();
    await writeBoth(100);
    h.start();
    await h.waitDelivered();
    await h.stop();
    await b.close();

    expect(a.rotations.length + b.rotations.length).toBeGreaterThan(20);
    expect(fs.readdirSync(h.ws.logDir).filter((f) => /^kubernetes-.*\.audit$/.test(f)).length).toBeGreaterThan(5);
    h.assertExact();
    // Each event carries the path of its own file family.
    const fromB = new Set(h.written.filter((w) => w.writer === undefined).map((w) => w.key));
    for (const log of h.logs()) {
      const p = log.__tag__?.__path__ ?? '';
      const key = `${log.auditID} ${log.stage}`;
      expect(path.basename(p).startsWith(fromB.has(key) ? 'other' : 'kubernetes'), `__path__ ${p} of ${key}`).toBe(true);
    }
  });
});

describe('first start (SPEC --start-at, --backfill)', () => {
  it.each([false, true])('backups that exist before the first start are read only with --backfill (%s), oldest first', async (backfill) => {
    const h = scenario(`first-start-${backfill}`);
    const lj = h.lumberjack({ maxSizeBytes: 1024 * 1024, maxBackups: 0 });
    for (let i = 0; i < 3; i++) {
      h.emit(lj, 40);
      lj.rotate();
    }
    const activeFrom = h.written.length;
    h.emit(lj, 40);
    h.start(backfill ? ['--backfill'] : []);
    const expected = backfill ? h.keysWritten() : h.keysWritten(activeFrom);
    await h.waitDelivered(expected);
    h.emit(lj, 10);
    expected.push(...h.keysWritten(h.written.length - 10));
    await h.waitDelivered(expected);
    await h.stop();
    h.assertExact(expected);
    h.assertOrder(expected);
  });

  it('--start-at end skips what a new file already holds, then ships what is appended', async () => {
    const h = scenario('start-at-end');
    const lj = h.lumberjack();
    h.emit(lj, 50);
    const port = await freePort();
    const agent = h.start(['--start-at', 'end', '--listen', `127.0.0.1:${port}`]);
    await waitReady(port, { agent }); // inputs set up: the start position is taken
    const from = h.written.length;
    h.emit(lj, 20);
    const expected = h.keysWritten(from);
    await h.waitDelivered(expected);
    await h.stop();
    h.assertExact(expected);
  });
});
