import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { CheckpointWriter, loadCheckpoints, type StreamRecord } from '../../../src/checkpoint/checkpoint-store.js';

const rec: StreamRecord = {
  id: 'a.1',
  input: 'audit',
  lane: '/l/k.audit',
  file: '/l/k.audit',
  dev: 1,
  ino: 2,
  fp: { len: 10, hash: 'h' },
  offset: 42,
  sealed: [50],
  size: 60,
  state: 'active',
  updatedAt: 1,
};

test('round trip, atomic: no temp file left behind, versioned', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ts-cp-'));
  const w = new CheckpointWriter(dir);
  await Promise.all([w.save([rec]), w.save([{ ...rec, offset: 50, sealed: [] }])]);
  expect(readdirSync(dir)).toEqual(['checkpoints.json']);
  expect(JSON.parse(readFileSync(path.join(dir, 'checkpoints.json'), 'utf8')).version).toBe(1);
  expect(loadCheckpoints(dir).streams).toEqual([{ ...rec, offset: 50, sealed: [] }]);
  w.saveSync([rec]);
  expect(loadCheckpoints(dir).streams[0]!.offset).toBe(42);
});

test.each([
  ['truncated', '{"version":1,"streams":[{"id":'],
  ['garbage', '\u0000\u0001'],
  ['other version', '{"version":99,"streams":[]}'],
])('a %s checkpoint file warns and falls back instead of crashing', (_name, text) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ts-cp-'));
  writeFileSync(path.join(dir, 'checkpoints.json'), text);
  const r = loadCheckpoints(dir);
  expect(r.streams).toEqual([]);
  expect(r.warning).toMatch(/checkpoints/);
});

test('a missing file is a first start, without warning; invalid records are dropped', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ts-cp-'));
  expect(loadCheckpoints(dir)).toEqual({ streams: [] });
  writeFileSync(path.join(dir, 'checkpoints.json'), JSON.stringify({ version: 1, savedAt: 0, streams: [rec, { id: 3 }] }));
  expect(loadCheckpoints(dir).streams).toEqual([rec]);
});
