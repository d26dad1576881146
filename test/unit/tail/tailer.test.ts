// The tailer on the in-memory file system: what the agent handle's fileProgress() and the signals report.
import { expect, test } from 'vitest';
import type { InputSpec } from '../../../src/config/types.js';
import { backupNameFor } from '../../../src/discover/rotation-names.js';
import { quietSignals } from '../../../src/tail/signals.js';
import { Tailer } from '../../../src/tail/tailer.js';
import { MemFs } from './mem-fs.js';

const ACTIVE = '/logs/kubernetes.audit';
const INPUT = { key: 'audit', path: ACTIVE, hostPath: ACTIVE, json: false, tags: {} } as unknown as InputSpec;

function setup() {
  const fs = new MemFs();
  fs.mkdir('/logs');
  const committed = new Map<string, number>();
  let read = 0;
  const lines: string[] = [];
  const tailer = new Tailer({
    inputs: [INPUT],
    records: [],
    startAt: 'beginning',
    backfill: true,
    maxLineBytes: 1024,
    fs,
    signals: { ...quietSignals, bytesRead: (n) => void (read += n) },
    hooks: { onLine: (_l, _r, line) => void lines.push(line.text), onStreamOpen: () => undefined, onStreamEnd: () => undefined, canRead: () => true },
    acks: { committed: (id) => committed.get(id), settled: () => true, forget: () => undefined },
  });
  return { fs, tailer, committed, lines, bytesRead: () => read };
}

test('fileProgress: each known file with its committed offset (from the acks) and the size last seen', async () => {
  const t = setup();
  t.fs.append(ACTIVE, Buffer.from('a\nbb\n'));
  await t.tailer.discover();
  await t.tailer.read();
  expect(t.lines).toEqual(['a', 'bb']);
  expect(t.bytesRead()).toBe(5);
  const [p] = t.tailer.fileProgress();
  expect(p).toMatchObject({ path: ACTIVE, committed: 0, size: 5 });
  t.committed.set(p!.stream, 2);
  expect(t.tailer.fileProgress()[0]!.committed).toBe(2);
  // rotated: the record follows its file to the backup name
  const backup = backupNameFor(ACTIVE, new Date(Date.UTC(2026, 0, 1)));
  t.fs.rename(ACTIVE, backup);
  t.fs.append(ACTIVE, Buffer.from('c\n'));
  await t.tailer.discover();
  await t.tailer.read();
  await t.tailer.discover();
  expect(t.tailer.fileProgress().map((x) => x.path).sort()).toEqual([backup, ACTIVE].sort());
  expect(t.lines).toEqual(['a', 'bb', 'c']);
});

test('a missing file is warned about once, through the signals', async () => {
  const warns: string[] = [];
  const fs = new MemFs();
  fs.mkdir('/logs');
  const tailer = new Tailer({
    inputs: [INPUT],
    records: [],
    startAt: 'beginning',
    backfill: false,
    maxLineBytes: 1024,
    fs,
    signals: { ...quietSignals, warn: (_f, m) => void warns.push(m) },
    hooks: { onLine: () => undefined, onStreamOpen: () => undefined, onStreamEnd: () => undefined, canRead: () => true },
    acks: { committed: () => undefined, settled: () => true, forget: () => undefined },
  });
  await tailer.discover();
  await tailer.discover();
  expect(warns).toHaveLength(1);
  expect(warns[0]).toMatch(/does not exist/);
});
