// When and what is saved: periodic saves when commits moved, prompt group commit of sealed ranges before send.
import { expect, test } from 'vitest';
import type { Batch } from '../../../src/batch/batch.js';
import type { StreamRecord } from '../../../src/identity/stream-record.js';
import { CHECKPOINT_EVERY_MS, Checkpointer, SEAL_PERSIST_MS } from '../../../src/run/checkpointer.js';
import { FakeClock } from './fake-clock.js';

const flush = () => new Promise((r) => setImmediate(r));

function setup(failAtFirst = false) {
  let fail = failAtFirst;
  const clock = new FakeClock();
  const saves: StreamRecord[][] = [];
  const sent: string[] = [];
  const states: Array<string | undefined> = [];
  let version = 0;
  const cp = new Checkpointer({
    store: {
      save: async (r) => {
        if (fail) throw new Error('disk full');
        saves.push(r);
      },
      saveSync: (r) => void saves.push(r),
    },
    snapshot: () => [{ id: `v${version}` } as StreamRecord],
    version: () => version,
    send: (b) => void sent.push(b.id),
    clock,
    onWriteState: (e) => void states.push(e?.message),
  });
  return { clock, cp, saves, sent, states, bump: () => version++, heal: () => void (fail = false) };
}

test('no periodic save before begin(); then one per tick only when the ledger changed', async () => {
  const t = setup();
  t.bump();
  t.clock.advance(CHECKPOINT_EVERY_MS);
  await flush();
  expect(t.saves).toHaveLength(0);
  t.cp.begin();
  t.clock.advance(CHECKPOINT_EVERY_MS);
  await flush();
  expect(t.saves).toHaveLength(1);
  t.clock.advance(CHECKPOINT_EVERY_MS);
  await flush();
  expect(t.saves).toHaveLength(1);
});

test('sealed batches are sent only after a save that names their range, several per write', async () => {
  const t = setup();
  t.cp.sealed({ id: 'a' } as Batch);
  t.cp.schedule();
  t.cp.sealed({ id: 'b' } as Batch);
  t.cp.schedule();
  expect(t.cp.idle).toBe(false);
  t.clock.advance(SEAL_PERSIST_MS - 1);
  await flush();
  expect(t.sent).toEqual([]);
  t.clock.advance(1);
  await flush();
  expect(t.saves).toHaveLength(1);
  expect(t.sent).toEqual(['a', 'b']);
  expect(t.cp.idle).toBe(true);
});

test('item 2: a state dir that becomes unwritable pauses shipping (nothing sent whose range is not saved), reported once, resumes by itself', async () => {
  const t = setup(true);
  t.cp.begin();
  t.cp.sealed({ id: 'a' } as Batch);
  await t.cp.save();
  expect(t.cp.failing).toBe(true);
  expect(t.sent).toEqual([]);
  for (let i = 0; i < 3; i++) {
    t.clock.advance(CHECKPOINT_EVERY_MS); // retried every tick, even with nothing new
    await flush();
  }
  expect(t.sent).toEqual([]);
  expect(t.states).toEqual(['disk full']); // one error, not one per retry
  t.heal();
  t.clock.advance(CHECKPOINT_EVERY_MS);
  await flush();
  await flush();
  expect(t.cp.failing).toBe(false);
  expect(t.sent).toEqual(['a']);
  expect(t.states).toEqual(['disk full', undefined]);
});

test('saveSync writes the snapshot at once (second signal)', () => {
  const t = setup();
  t.cp.saveSync();
  expect(t.saves).toHaveLength(1);
  t.cp.stopTick();
  expect(t.clock.pending).toBe(0);
});
