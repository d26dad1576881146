// The one place where a line becomes events: parse, stages, batch ranges.
import { expect, test } from 'vitest';
import { lineToEvents, type LineSource } from '../../../src/parse/line-event.js';
import type { RawLine } from '../../../src/parse/raw-line.js';
import type { ShipEvent } from '../../../src/parse/ship-event.js';
import type { EventProcessor } from '../../../src/process/stage.js';

type Added = [string, number, number, string | undefined, number];

function run(stages: EventProcessor[], line: RawLine, json = true) {
  const added: Added[] = [];
  const counts = { invalid: 0, truncated: 0, invalidUtf8: 0 };
  const events: ShipEvent[] = [];
  const src: LineSource = { inputKey: 'in', json, stages, tags: { t: '1' }, add: (s, a, b, e, bytes) => void (added.push([s, a, b, e?.raw, bytes]), e && events.push(e)) };
  const signals = { invalid: () => counts.invalid++, truncated: () => counts.truncated++, invalidUtf8: () => counts.invalidUtf8++ };
  lineToEvents(src, 'st', line, signals, () => 1_700_000_000_500);
  return { added, counts, events };
}
const line = (text: string, start = 10, truncated = false): RawLine => ({ start, end: start + Buffer.byteLength(text) + 1, text, truncated });

test('a JSON line becomes one event carrying its bytes', () => {
  expect(run([], line('{"a":1}')).added).toEqual([['st', 10, 18, '{"a":1}', 8]]);
});

test('an empty line carries no event but its bytes go to the batch', () => {
  expect(run([], line('')).added).toEqual([['st', 10, 11, undefined, 1]]);
});

test('invalid JSON and cut lines are counted', () => {
  expect(run([], line('nope')).counts).toEqual({ invalid: 1, truncated: 0, invalidUtf8: 0 });
  expect(run([], line('{"a":', 0, true)).counts).toEqual({ invalid: 0, truncated: 1, invalidUtf8: 0 });
});

test('item 11: a line that was not UTF-8 is tagged __invalid_utf8__ (per log) and counted', () => {
  const bad = { ...line('{"a":"\uFFFD"}'), invalidUtf8: true as const };
  const r = run([], bad);
  expect(r.counts.invalidUtf8).toBe(1);
  expect(r.events[0]!.markers).toEqual({ __invalid_utf8__: 'true' });
  const good = run([], line('{"a":"\uFFFD"}'));
  expect(good.counts.invalidUtf8).toBe(0);
  expect(good.events[0]!.markers).toBeUndefined();
});

test('a stage that drops the event still acknowledges the bytes', () => {
  expect(run([() => null], line('{"a":1}')).added).toEqual([['st', 10, 18, undefined, 8]]);
});

test('a stage sees the context of the line', () => {
  let seen: unknown;
  run([(e, ctx) => ((seen = ctx), e)], line('{"a":1}'));
  expect(seen).toEqual({ inputKey: 'in', stream: 'st', offset: 10, tags: { t: '1' } });
});

test('several events: the first carries the bytes, the rest zero-length ranges at the line end; none: bytes only', () => {
  const two: EventProcessor = (e) => [e, { ...e, raw: 'second' } as ShipEvent];
  expect(run([two], line('{"a":1}')).added).toEqual([
    ['st', 10, 18, '{"a":1}', 8],
    ['st', 18, 18, 'second', 0],
  ]);
  expect(run([() => []], line('{"a":1}')).added).toEqual([['st', 10, 18, undefined, 8]]);
});
