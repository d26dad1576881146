// A restart's first look at a lane is no snapshot of the directory: lumberjack's mill (unlink the plain backup
// once its .gz is complete) or the writer (rename rotation) may act between the listing and each open. Every
// point at which such a step can land is tried: a file checkpointed before the restart must be recognised under
// its new name, so that its committed lines are not read again and its unacknowledged ones are read again as the
// SAME stream at the SAME offsets (batch ids are stream-start-end: the store dedupes them).
import { expect, test } from 'vitest';
import type { InputSpec } from '../../../src/config/types.js';
import { backupNameFor } from '../../../src/discover/rotation-names.js';
import type { StreamRecord } from '../../../src/identity/stream-record.js';
import { quietSignals } from '../../../src/tail/signals.js';
import { Tailer } from '../../../src/tail/tailer.js';
import { MemFs } from './mem-fs.js';

const DIR = '/logs';
const ACTIVE = `${DIR}/kubernetes.audit`;
const INPUT = { key: 'audit', path: ACTIVE, hostPath: ACTIVE, json: false, tags: {} } as unknown as InputSpec;
const B1 = backupNameFor(ACTIVE, new Date(Date.UTC(2026, 0, 1)));
const B2 = backupNameFor(ACTIVE, new Date(Date.UTC(2026, 0, 2)));

interface Read {
  text: string;
  stream: string;
  start: number;
}

function world() {
  const fs = new MemFs();
  fs.mkdir(DIR);
  let now = 1_700_000_000_000;
  const reads: Read[] = [];
  /** Offset each stream has read to; `ack()` makes it the committed one (the store acknowledged it). */
  const readTo = new Map<string, number>();
  const committed = new Map<string, number>();
  const problems: string[] = [];
  const make = (records: StreamRecord[]): Tailer =>
    new Tailer({
      inputs: [INPUT],
      records,
      startAt: 'beginning',
      backfill: true,
      maxLineBytes: 1 << 16,
      readChunkBytes: 64,
      fs,
      now: () => now,
      signals: { ...quietSignals, bytesLost: (n) => void problems.push(`lost ${n}`), warn: (_f, m) => void problems.push(m), error: (_f, m) => void problems.push(m) },
      hooks: {
        onLine: (_lane, rec, line) => {
          reads.push({ text: line.text, stream: rec.id, start: line.start });
          readTo.set(rec.id, line.end);
        },
        onStreamOpen: (rec, offset) => void committed.set(rec.id, offset),
        onStreamEnd: () => undefined,
        canRead: () => true,
      },
      acks: { committed: (id) => committed.get(id), settled: (id) => (readTo.get(id) ?? 0) <= (committed.get(id) ?? 0), forget: () => undefined },
    });
  const lines = (...ls: string[]): Buffer => Buffer.from(ls.map((l) => `${l}-${'x'.repeat(40)}\n`).join(''));
  /** Polls and reads until quiet. */
  const settle = async (t: Tailer): Promise<void> => {
    for (let i = 0; i < 5; i++) {
      await t.discover();
      for (let j = 0; j < 100 && (await t.read()) > 0; j++);
      now += 6000; // past the linger: rotated files are finished
    }
  };
  const ack = (): void => {
    for (const [id, end] of readTo) committed.set(id, end);
  };
  return { fs, reads, problems, make, lines, settle, ack };
}

type World = ReturnType<typeof world>;

/** Before the crash: a5, a6 and b0 were read and not acknowledged, a0–a4 were. Returns the checkpoint. */
async function beforeCrash(w: World, rotated: boolean): Promise<StreamRecord[]> {
  const t = w.make([]);
  w.fs.append(ACTIVE, w.lines('a0', 'a1', 'a2', 'a3', 'a4'));
  await w.settle(t);
  w.ack();
  w.fs.append(ACTIVE, w.lines('a5', 'a6'));
  if (rotated) {
    w.fs.rename(ACTIVE, B1);
    w.fs.create(ACTIVE);
    w.fs.append(ACTIVE, w.lines('b0'));
  }
  await w.settle(t);
  return JSON.parse(JSON.stringify(t.snapshot())) as StreamRecord[];
}

const scenarios: Array<{ name: string; rotated: boolean; prepare(w: World): void; step(w: World): void }> = [
  {
    name: "the mill removes the plain backup (its .gz complete) while the restart looks",
    rotated: true,
    prepare: (w) => {
      const gz = w.fs.create(`${B1}.gz`, true);
      gz.data = Buffer.from(w.fs.inode(B1)!.data);
      gz.complete = true;
    },
    step: (w) => w.fs.unlink(B1),
  },
  {
    name: 'the writer rotates the active file while the restart looks',
    rotated: false,
    prepare: () => undefined,
    step: (w) => {
      w.fs.rename(ACTIVE, B2);
      w.fs.create(ACTIVE);
      w.fs.append(ACTIVE, w.lines('c0'));
    },
  },
];

test.each(scenarios)('$name: every line once, or again as the same stream at the same offset', async (sc) => {
  for (let k = 0; ; k++) {
    const w = world();
    const records = await beforeCrash(w, sc.rotated);
    sc.prepare(w);
    const before = w.reads.length;
    let calls = 0;
    let landed = false;
    w.fs.beforeCall = () => {
      if (calls++ === k) {
        landed = true;
        sc.step(w);
      }
    };
    const t = w.make(records);
    await w.settle(t);
    if (!landed) break; // every point of the restart and the polls after it has been tried
    await w.settle(t); // polls after the step, wherever it landed
    const where = `step landed before call ${k}`;
    const byText = new Map<string, Read[]>();
    for (const r of w.reads) byText.set(r.text.slice(0, 2), [...(byText.get(r.text.slice(0, 2)) ?? []), r]);
    for (const l of ['a0', 'a1', 'a2', 'a3', 'a4']) expect(byText.get(l), `${where}: ${l} was acknowledged`).toHaveLength(1);
    const unacked = ['a5', 'a6', ...(sc.rotated ? ['b0'] : []), ...(sc.name.includes('rotates') ? ['c0'] : [])];
    for (const l of unacked) {
      const rs = byText.get(l) ?? [];
      expect(rs.length, `${where}: ${l} read`).toBeGreaterThan(0);
      expect(new Set(rs.map((r) => `${r.stream}@${r.start}`)).size, `${where}: ${l} read as ${JSON.stringify(rs)}`).toBe(1);
    }
    expect(w.reads.length - before, where).toBeGreaterThan(0);
    expect(w.problems, where).toEqual([]);
  }
});
