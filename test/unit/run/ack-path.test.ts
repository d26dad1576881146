// SPEC §3: the Idempotency-Key (the batch id, stream-start-end) is the same for the same bytes across restarts.
// The ack path persists the ends of sealed batches so a restart re-cuts them; these tests crash it twice.
import { expect, test } from 'vitest';
import type { Batch } from '../../../src/batch/batch.js';
import type { LaneInfo } from '../../../src/batch/batcher.js';
import { AckLedger } from '../../../src/ack/ack-ledger.js';
import type { AgentOptions } from '../../../src/config/types.js';
import type { Deliverer } from '../../../src/deliver/deliverer.js';
import type { StreamRecord } from '../../../src/identity/stream-record.js';
import type { ShipEvent } from '../../../src/parse/ship-event.js';
import { createAckPath } from '../../../src/run/ack-path.js';
import { Budget } from '../../../src/run/wiring.js';

const LANE: LaneInfo = { id: 'l', target: { inputKey: 'a', logstore: 'a', source: 'h', tags: {}, shard: 2, ttl: 90, logstoreMode: 'standard' } };
const ev: ShipEvent = { raw: 'x', isObject: false, time: 1, timeNs: 0 };
const REC: StreamRecord = { id: 's', input: 'a', lane: '/l', file: '/l', dev: 1, ino: 2, fp: { len: 0, hash: '' }, offset: 0, sealed: [], size: 100, state: 'active', updatedAt: 0 };

/** One agent life: its ack path wired as agent.ts does; the store never answers (every batch stays in flight). */
function life(maxEvents: number, checkpoint: StreamRecord) {
  const sent: string[] = [];
  const ledger = new AckLedger();
  const never = { deliver: () => new Promise<void>(() => undefined) } as unknown as Deliverer;
  const ack = createAckPath({ batchMaxEvents: maxEvents, batchMaxBytes: 1 << 20, batchMaxWait: 1000 } as AgentOptions, {
    ledger,
    budget: new Budget(1 << 30),
    deliverer: never,
    wake: () => undefined,
    persistThenSend: (b: Batch) => void (sent.push(b.id), ack.send(b)),
  });
  // onStreamOpen, as agent.ts wires it (a restart resumes at the committed offset with the persisted ends)
  ledger.open(checkpoint.id, checkpoint.offset, checkpoint.lastEventMs);
  ack.batcher.setCuts(checkpoint.id, checkpoint.sealed);
  return {
    sent,
    /** Ten lines of 10 bytes each from `from`. */
    read: (from: number, to: number) => {
      for (let at = from; at < to; at += 10) ack.batcher.add(LANE, 's', at, at + 10, ev, 10, 0);
    },
    save: (): StreamRecord => {
      const [r] = ack.snapshot([{ ...checkpoint, offset: ack.acks.committed(checkpoint.id) ?? checkpoint.offset }]);
      return JSON.parse(JSON.stringify(r)) as StreamRecord;
    },
  };
}

test('a crash right after a restart persisted its plan keeps the batch ends it had not re-read yet', () => {
  const first = life(2, REC);
  first.read(0, 40);
  expect(first.sent).toEqual(['s-0-20', 's-20-40']);
  const cp1 = first.save();
  expect(cp1.sealed).toEqual([20, 40]);
  // Restart: the first discovery's save happens before anything is read again, then a second crash.
  const second = life(3, cp1);
  const cp2 = second.save();
  expect(cp2).toMatchObject({ offset: 0, sealed: [20, 40] });
  // The third life cuts the same bytes into the same batches (other limits would cut them at 30).
  const third = life(3, cp2);
  third.read(0, 60);
  expect(third.sent.slice(0, 2)).toEqual(['s-0-20', 's-20-40']);
});

test('a restart part-way through its re-read persists the ends re-sealed, then those still to come', () => {
  const first = life(1, REC);
  first.read(0, 30);
  const second = life(5, first.save());
  second.read(0, 10);
  expect(second.sent).toEqual(['s-0-10']);
  expect(second.save().sealed).toEqual([10, 20, 30]);
});

test('a batch\'s event bytes stay readable until the deliverer settled it, and are released then (not on an abort)', async () => {
  const settle: Array<{ batch: Batch; ok: () => void; fail: (e: Error) => void }> = [];
  const held = {
    deliver: (batch: Batch) => new Promise<void>((ok, fail) => settle.push({ batch, ok, fail: (e) => fail(e) })),
  } as unknown as Deliverer;
  const ledger = new AckLedger();
  const ack = createAckPath({ batchMaxEvents: 1, batchMaxBytes: 1 << 20, batchMaxWait: 1000 } as AgentOptions, {
    ledger,
    budget: new Budget(1 << 30),
    deliverer: held,
    wake: () => undefined,
    persistThenSend: (b: Batch) => ack.send(b),
  });
  ledger.open('s', 0, undefined);
  ack.batcher.add(LANE, 's', 0, 10, { raw: '{"n":1}', isObject: true, time: 1, timeNs: 0 }, 10, 0);
  ack.batcher.add(LANE, 's', 10, 20, { raw: '{"n":2}', isObject: true, time: 1, timeNs: 0 }, 10, 0);
  expect(settle).toHaveLength(2);
  const [first, second] = settle as [(typeof settle)[0], (typeof settle)[0]];
  expect(first.batch.events[0]!.raw).toBe('{"n":1}');
  first.ok();
  await new Promise((r) => setImmediate(r));
  expect(ack.acks.committed('s')).toBe(10);
  expect(() => first.batch.events[0]!.raw).toThrowError(expect.objectContaining({ code: 'TAILSHIP_E_EVENT_RELEASED' }));
  // aborted at shutdown: not acknowledged, so nothing is released (nor committed)
  second.fail(new Error('aborted'));
  await new Promise((r) => setImmediate(r));
  expect(second.batch.events[0]!.raw).toBe('{"n":2}');
  expect(ack.acks.committed('s')).toBe(10);
});
