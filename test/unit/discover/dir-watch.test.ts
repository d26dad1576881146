import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { DirWatch } from '../../../src/discover/dir-watch.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'dir-watch-'));
  dirs.push(d);
  return d;
};

test('watches nothing while the poll runs at its pace: appends under load never reach the main thread', () => {
  const a = tmp();
  const w = new DirWatch(() => {});
  w.update([a, path.join(a, 'missing')]);
  expect(w.watching).toBe(0);
  w.close();
});

test('armed (the poll backed off), an append wakes the loop; disarmed, the watchers are closed', async () => {
  const a = tmp();
  const b = tmp();
  const file = path.join(a, 'kubernetes.audit');
  fs.writeFileSync(file, '');
  let woke!: () => void;
  const wake = new Promise<void>((r) => (woke = r));
  const w = new DirWatch(() => woke(), 0);
  w.update([a, b, path.join(a, 'missing')]);
  w.arm(true);
  expect(w.watching).toBe(2); // the missing one is tried again on the next update
  fs.appendFileSync(file, '{"kind":"Event"}\n');
  await wake;
  w.update([a]); // an input removed by a reload: its directory is no longer watched
  expect(w.watching).toBe(1);
  w.arm(false);
  expect(w.watching).toBe(0);
  w.close();
});

test('a rename while armed wakes the loop, and close() stops every watcher for good', async () => {
  const a = tmp();
  const file = path.join(a, 'kubernetes.audit');
  fs.writeFileSync(file, 'x\n');
  let n = 0;
  let woke!: () => void;
  const wake = new Promise<void>((r) => (woke = r));
  const w = new DirWatch(() => (n++, woke()), 0);
  w.update([a]);
  w.arm(true);
  fs.renameSync(file, path.join(a, 'kubernetes-2026-12-02T10-00-00.000.audit'));
  await wake;
  expect(n).toBeGreaterThan(0);
  w.close();
  w.arm(true);
  expect(w.watching).toBe(0);
});
