import { expect, test } from 'vitest';
import type { Batch } from '../../../src/batch/batch.js';
import { Batcher, type LaneInfo } from '../../../src/batch/batcher.js';
import type { ShipEvent } from '../../../src/parse/ship-event.js';

const lane = (id: string): LaneInfo => ({
  id,
  target: { inputKey: id, logstore: id, source: 'h', tags: { __path__: `/p/${id}` }, shard: 2, ttl: 90, logstoreMode: 'standard' },
});
const ev = (raw: string): ShipEvent => ({ raw, isObject: false, time: 1, timeNs: 0 });

function collect(limits = { maxEvents: 3, maxBytes: 1000, maxWaitMs: 100 }) {
  const sealed: Batch[] = [];
  return { sealed, b: new Batcher(limits, (x) => sealed.push(x)) };
}

test('seals by count with contiguous ranges that include empty lines', () => {
  const { sealed, b } = collect();
  b.add(lane('a'), 's', 0, 2, ev('1'), 2, 0);
  b.add(lane('a'), 's', 2, 3, undefined, 0, 0); // empty line
  b.add(lane('a'), 's', 3, 5, ev('2'), 2, 0);
  b.add(lane('a'), 's', 5, 7, ev('3'), 2, 0);
  expect(sealed).toHaveLength(1);
  expect(sealed[0]!.range).toEqual({ stream: 's', start: 0, end: 7 });
  expect(sealed[0]!.id).toBe('s-0-7');
  expect(sealed[0]!.events.map((e) => e.raw)).toEqual(['1', '2', '3']);
});

test('seals by bytes, by age, and when the stream changes; lanes never mix', () => {
  const { sealed, b } = collect({ maxEvents: 100, maxBytes: 10, maxWaitMs: 100 });
  b.add(lane('a'), 's1', 0, 6, ev('aaaaa'), 6, 0);
  b.add(lane('b'), 't', 0, 3, ev('bb'), 3, 0);
  b.add(lane('a'), 's1', 6, 12, ev('aaaaa'), 6, 0); // 12 bytes ≥ 10
  expect(sealed.map((x) => x.id)).toEqual(['s1-0-12']);
  b.add(lane('a'), 's2', 0, 2, ev('n'), 2, 10); // new stream (rotation)
  b.add(lane('a'), 's2', 2, 4, ev('n'), 2, 10);
  expect(b.sealDue(50)).toBe(50);
  expect(b.sealDue(100)).toBe(10);
  expect(sealed.map((x) => x.id)).toEqual(['s1-0-12', 't-0-3']);
  b.sealStream('s2');
  expect(sealed.map((x) => x.id)).toEqual(['s1-0-12', 't-0-3', 's2-0-4']);
  expect(b.openCount).toBe(0);
});

test('a re-read after restart reproduces the persisted batch ends, not the limits', () => {
  const { sealed, b } = collect({ maxEvents: 2, maxBytes: 1000, maxWaitMs: 1 });
  b.setCuts('s', [9, 12]);
  for (let i = 0; i < 4; i++) b.add(lane('a'), 's', i * 3, i * 3 + 3, ev('xx'), 3, 0);
  expect(b.sealDue(1000)).toBeUndefined(); // age does not cut a reproduced batch
  expect(sealed.map((x) => x.id)).toEqual(['s-0-9', 's-9-12']);
  b.add(lane('a'), 's', 12, 15, ev('xx'), 3, 0);
  b.add(lane('a'), 's', 15, 18, ev('xx'), 3, 0);
  expect(sealed.map((x) => x.id)).toEqual(['s-0-9', 's-9-12', 's-12-18']); // back to the limits
});
