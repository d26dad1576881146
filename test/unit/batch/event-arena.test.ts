import { afterEach, expect, test } from 'vitest';
import { CHUNK_BYTES, EventArena as Arena, StoredEvent } from '../../../src/batch/event-arena.js';
import { ErrorCodes } from '../../../src/errors.js';
import type { ShipEvent } from '../../../src/parse/ship-event.js';
import { BodyWriter, renderLog, writeLog, writeLogInSlices } from '../../../src/deliver/render.js';

// every arena of a test is released after it: the pool is let go when no arena holds chunks
const made: Arena[] = [];
class EventArena extends Arena {
  constructor() {
    super();
    made.push(this);
  }
}
afterEach(() => {
  for (const a of made.splice(0)) a.release();
});

const ev = (raw: string, isObject = true, markers?: Record<string, string>): ShipEvent => ({ raw, isObject, time: 1700000000, timeNs: 5, markers });

const TEXTS = [
  '{"kind":"Event","auditID":"a-1","stage":"ResponseComplete"}',
  '{"user":{"username":"zoë"},"note":"日本語 ✓ 😀"}',
  '{"bad":"\uFFFD\uFFFD"}  ',
  '{ }',
  '{}',
  '{"__time__":1,"x":2}', // our reserved key: rendered whole
  'not json at all, \u00e9',
];

test('a stored event reads back the text it was given, whatever its characters, with its other fields', () => {
  const arena = new EventArena();
  for (const t of TEXTS) {
    const plain = ev(t, t.startsWith('{'), { __event_id__: 'abc' });
    const s = arena.store(plain);
    expect(s).toBeInstanceOf(StoredEvent);
    expect(s.raw).toBe(t);
    expect({ isObject: s.isObject, time: s.time, timeNs: s.timeNs, markers: s.markers }).toEqual({ isObject: plain.isObject, time: plain.time, timeNs: plain.timeNs, markers: plain.markers });
  }
});

test('a stored event renders the same bytes as the text it came from', () => {
  const arena = new EventArena();
  for (const t of TEXTS) {
    for (const tag of [undefined, '{"__event_id__":"abc"}']) {
      const plain = ev(t, t.startsWith('{'));
      const stored = arena.store(plain);
      const a = new BodyWriter(16);
      writeLog(a, stored, tag);
      const b = new BodyWriter(16);
      expect(writeLogInSlices(b, stored, tag)).toBeUndefined();
      const want = renderLog(plain, tag);
      expect(a.bytes().toString()).toBe(want);
      expect(b.bytes().toString()).toBe(want);
    }
  }
});

test('events share 64 KiB chunks; a text that does not fit what is left starts the next one', () => {
  expect(CHUNK_BYTES).toBe(64 * 1024); // the room a piece writer keeps (render.ts)
  const arena = new EventArena();
  const a = arena.store(ev('{"a":1}')) as StoredEvent;
  const b = arena.store(ev('{"b":2}')) as StoredEvent;
  expect(b.buf).toBe(a.buf);
  expect(b.from).toBe(a.to);
  const fill = arena.store(ev(`{"x":"${'z'.repeat(CHUNK_BYTES - 10)}"}`)) as StoredEvent;
  expect(fill.buf).not.toBe(a.buf);
  expect(fill.from).toBe(0);
  expect(fill.rest).toBeUndefined();
});

/** Runs a slice generator to its end; how many times it yielded. */
function drain(g: Generator<void, void, void> | undefined): number {
  let n = 0;
  if (g) for (const _ of g) n++;
  return n;
}

test('a text over a chunk is stored across chunks, never splitting a character, and renders the same bytes', () => {
  // 4-byte characters at every alignment against the chunk ends, a reserved key, a text that is no object
  const texts = [
    `{"x":"${'y'.repeat(3 * CHUNK_BYTES)}"}`,
    `{"x":"${'😀é日'.repeat(CHUNK_BYTES / 3)}" }  `,
    `{"__tag__":1,"x":"${'y'.repeat(CHUNK_BYTES)}"}`,
    `plain ${'😀'.repeat(CHUNK_BYTES / 2)}`,
  ];
  for (const t of texts) {
    const arena = new EventArena();
    arena.store(ev('{"before":1}')); // the big text starts in what is left of this chunk
    const plain = ev(t, t.startsWith('{'), { __event_id__: 'abc' });
    const s = arena.store(plain) as StoredEvent;
    expect(s).toBeInstanceOf(StoredEvent);
    expect(s.rest!.length).toBeGreaterThan(0);
    for (const piece of [s.bytes(), ...s.rest!]) {
      expect(piece.length).toBeLessThanOrEqual(CHUNK_BYTES);
      expect(Buffer.from(piece.toString('utf8')).equals(piece)).toBe(true); // whole characters only
    }
    expect(s.raw).toBe(t);
    const want = renderLog(plain, '{"__event_id__":"abc"}');
    const a = new BodyWriter(16);
    writeLog(a, s, '{"__event_id__":"abc"}');
    expect(a.bytes().toString()).toBe(want);
    const b = new BodyWriter(16);
    expect(drain(writeLogInSlices(b, s, '{"__event_id__":"abc"}'))).toBeGreaterThan(0);
    expect(b.bytes().toString()).toBe(want);
    // the next event goes on in the last chunk of the big one
    const after = arena.store(ev('{"after":1}')) as StoredEvent;
    const last = s.rest!.at(-1)!;
    expect(after.buf.buffer).toBe(last.buffer);
    expect(after.from).toBe(last.byteOffset - after.buf.byteOffset + last.length);
    expect(after.raw).toBe('{"after":1}');
  }
});

test('an event stored across chunks cannot be read after its batch was released', () => {
  const open = new EventArena();
  open.store(ev('{"open":1}'));
  const arena = new EventArena();
  const s = arena.store(ev(`{"x":"${'y'.repeat(2 * CHUNK_BYTES)}"}`)) as StoredEvent;
  arena.release();
  expect(() => s.raw).toThrowError(expect.objectContaining({ code: ErrorCodes.EVENT_RELEASED }));
  expect(() => drain(writeLogInSlices(new BodyWriter(16), s, undefined))).toThrowError(expect.objectContaining({ code: ErrorCodes.EVENT_RELEASED }));
});

test('after release an event cannot be read (a bug would otherwise ship another batch\'s bytes), and its chunk is reused', () => {
  const open = new EventArena(); // the next batch, already open: the pool stays
  open.store(ev('{"open":1}'));
  const arena = new EventArena();
  const s = arena.store(ev('{"secret":"first batch"}')) as StoredEvent;
  const chunk = s.buf;
  arena.release();
  expect(() => s.raw).toThrowError(expect.objectContaining({ code: ErrorCodes.EVENT_RELEASED }));
  expect(() => writeLog(new BodyWriter(16), s, undefined)).toThrowError(expect.objectContaining({ code: ErrorCodes.EVENT_RELEASED }));
  const next = new EventArena().store(ev('{"b":2}')) as StoredEvent;
  expect(next.buf).toBe(chunk);
  expect(next.raw).toBe('{"b":2}');
});

test('storing an event of the same arena again returns it as it is', () => {
  const arena = new EventArena();
  const s = arena.store(ev('{"a":1}'));
  expect(arena.store(s)).toBe(s);
  const other = new EventArena().store(s) as StoredEvent;
  expect(other).not.toBe(s);
  expect(other.raw).toBe('{"a":1}');
});

test('when no arena holds chunks any more, the pool is let go (an idle agent keeps no batch memory)', () => {
  const first = new EventArena();
  const a = first.store(ev('{"a":1}')) as StoredEvent;
  first.release(); // nothing else holds chunks: the slab goes to GC
  const again = new EventArena().store(ev('{"b":2}')) as StoredEvent;
  expect(again.buf.buffer).not.toBe(a.buf.buffer);
});

test('chunks are cut from slabs, and a released chunk is the next one taken', () => {
  const open = new EventArena();
  const a = open.store(ev('{"a":1}')) as StoredEvent;
  const others = [1, 2, 3].map(() => new EventArena().store(ev('{"b":2}')) as StoredEvent);
  for (const o of others) expect(o.buf.buffer).toBe(a.buf.buffer); // one slab, four chunks
  expect(new Set([a, ...others].map((e) => e.buf.byteOffset)).size).toBe(4);
});
