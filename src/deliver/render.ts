import { StoredEvent } from '../batch/event-arena.js';
import { hasReservedKey, objectEnd } from '../parse/log-text.js';
import type { ShipEvent } from '../parse/ship-event.js';

/**
 * Renders one log as a JSON object text (SPEC §3): the event's own object, or `{"content": line}`, with
 * `__time__` and, when `tagJson` is given, `__tag__` appended. String concatenation instead of
 * parse + stringify: the event was already validated as one JSON object when it was parsed.
 *
 * `tagJson` is the pre-serialised `__tag__` object text (see tagObjectJson) or undefined for none.
 */
export function renderLog(event: ShipEvent, tagJson: string | undefined): string {
  const tail = tagJson === undefined ? `"__time__":${event.time}}` : `"__time__":${event.time},"__tag__":${tagJson}}`;
  if (!event.isObject) return `{"content":${JSON.stringify(event.raw)},${tail}`;
  const raw = event.raw;
  // An event that carries its own reserved keys: rebuild it so that ours replace them (no duplicate keys).
  if (hasReservedKey(raw)) {
    const obj = JSON.parse(raw) as Record<string, unknown>;
    delete obj.__time__;
    delete obj.__tag__;
    return renderObject(obj, tail);
  }
  const close = raw.lastIndexOf('}');
  const body = raw.slice(0, close).trimEnd();
  // `{}` (nothing but whitespace after the brace) needs no comma.
  // An empty object (`{}`, maybe with whitespace around) needs no comma: its text before `}` ends with `{`.
  return body.endsWith('{') ? `${body}${tail}` : `${body},${tail}`;
}

function renderObject(obj: Record<string, unknown>, tail: string): string {
  const text = JSON.stringify(obj);
  return text === '{}' ? `{${tail}` : `${text.slice(0, -1)},${tail}`;
}

/** `__tag__` object text for a log: the batch's shared tags, then the log's own markers. */
export function tagObjectJson(shared: Record<string, string> | undefined, markers: Record<string, string> | undefined): string | undefined {
  if (!shared && !markers) return undefined;
  if (!markers) return JSON.stringify(shared);
  if (!shared) return JSON.stringify(markers);
  return JSON.stringify({ ...shared, ...markers });
}

/** `JSON.stringify(markers)`; the usual `{"__event_id__": hex}` alone without the general serialiser. */
export function markersJson(markers: Record<string, string>): string {
  let only: string | undefined;
  for (const k in markers) {
    if (only !== undefined || k !== '__event_id__') return JSON.stringify(markers);
    only = markers[k];
  }
  // stringifying the value alone escapes it as the whole would, without a regex test for the usual hex id
  return only !== undefined ? `{"__event_id__":${JSON.stringify(only)}}` : JSON.stringify(markers);
}

/**
 * `tagObjectJson(shared, markers)` for every log of a batch whose shared part was serialised once
 * (`sharedJson`): when no marker repeats a shared key, the merged object is the shared text with the markers'
 * members appended, the same bytes as stringifying the merged object (every log carries `__event_id__`).
 * Anything else takes the general form.
 */
export function tagJsonWith(shared: Record<string, string> | undefined, sharedJson: string | undefined, markers: Record<string, string> | undefined): string | undefined {
  if (!markers) return sharedJson;
  if (!shared || sharedJson === undefined) return markersJson(markers);
  // a repeated key keeps the shared position; an integer-like key goes first: both need the general form
  for (const k in markers) {
    const c = k.charCodeAt(0);
    if ((c >= 0x30 && c <= 0x39) || Object.prototype.hasOwnProperty.call(shared, k)) return tagObjectJson(shared, markers);
  }
  const m = markersJson(markers);
  if (m === '{}') return sharedJson;
  return sharedJson === '{}' ? m : `${sharedJson.slice(0, -1)},${m.slice(1)}`;
}

/**
 * What a log adds to its event's bytes in a body: `,"__time__":1700000000` and `,"__tag__":{…}` with the log's own
 * markers (`__event_id__` alone is 83 bytes), before any shared tags. Writers size their buffer with it so that
 * a batch body fits at once: an estimate 80 bytes short per log doubled every 3 MB body (steady 10 MB/s: 6.4 MB
 * buffers, 16.8 MiB of ArrayBuffers).
 */
export const LOG_OVERHEAD_BYTES = 128;

/** Released body buffers kept for the next batches: their memory is reused at once instead of waiting for GC. */
const spare: Buffer[] = [];
const SPARE_MAX = 2;
const SPARE_BUFFER_MAX = 8 << 20;

/**
 * A growable byte buffer that batch bodies are written into: each piece is UTF-8-encoded straight into it, so a
 * 3 MB body costs one copy instead of a joined string that is flattened and then encoded again.
 * `release()` hands the buffer back for reuse once nothing reads it any more (after gzip, after the write).
 */
export class BodyWriter {
  #buf: Buffer;
  #len = 0;

  constructor(capacity: number) {
    const want = Math.max(1024, capacity);
    // The smallest spare that fits, and none far larger than asked: a gzip piece writer (which gives back only
    // buffers of its own size) must not take and drop a whole-body buffer that a plain body would reuse.
    let i = -1;
    for (let j = 0; j < spare.length; j++) {
      const n = spare[j]!.length;
      if (n >= want && n <= want * 4 && (i < 0 || n < spare[i]!.length)) i = j;
    }
    this.#buf = i >= 0 ? spare.splice(i, 1)[0]! : Buffer.allocUnsafe(want);
  }

  write(s: string): void {
    // A UTF-16 unit takes at most 3 UTF-8 bytes; measure exactly only when the cheap bound does not fit.
    if (s.length * 3 > this.#buf.length - this.#len) {
      const need = Buffer.byteLength(s);
      if (need > this.#buf.length - this.#len) {
        const bigger = Buffer.allocUnsafe(Math.max(Math.ceil(this.#buf.length * 1.5), this.#len + need));
        this.#buf.copy(bigger, 0, 0, this.#len);
        this.#buf = bigger;
      }
    }
    this.#len += this.#buf.write(s, this.#len);
  }

  /** Appends `bytes[from, to)`. */
  writeBytes(bytes: Buffer, from: number, to: number): void {
    if (to - from > this.#buf.length - this.#len) {
      const bigger = Buffer.allocUnsafe(Math.max(Math.ceil(this.#buf.length * 1.5), this.#len + (to - from)));
      this.#buf.copy(bigger, 0, 0, this.#len);
      this.#buf = bigger;
    }
    this.#len += bytes.copy(this.#buf, this.#len, from, to);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#len;
  }

  /** Starts over in the same buffer (its bytes were taken). */
  clear(): void {
    this.#len = 0;
  }

  /** The bytes written (a view: valid until the next write or release). */
  bytes(): Buffer {
    return this.#buf.subarray(0, this.#len);
  }

  /** The caller is done with bytes(): the buffer may be reused by the next writer, unless it is over `keepUpTo`. */
  release(keepUpTo = SPARE_BUFFER_MAX): void {
    const b = this.#buf;
    this.#buf = Buffer.alloc(0);
    this.#len = 0;
    if (b.length > 0 && b.length <= Math.min(keepUpTo, SPARE_BUFFER_MAX)) {
      if (spare.length >= SPARE_MAX) spare.shift();
      spare.push(b);
    }
  }
}

/** Writes exactly the bytes of `renderLog(event, tagJson)`, without building the log as one string. */
export function writeLog(w: BodyWriter, event: ShipEvent, tagJson: string | undefined): void {
  if (event instanceof StoredEvent && event.membersBytes >= 0) {
    event.assertLive();
    // one chunk (nearly every event): its bytes at once, no generator per event on the hot path
    if (!event.rest) w.writeBytes(event.buf, event.from, event.from + event.membersBytes);
    else for (const _ of writeStoredMembers(w, event));
    writeTail(w, event, tagJson);
    return;
  }
  if (rendersWhole(event)) {
    w.write(renderLog(event, tagJson));
    return;
  }
  const end = objectEnd(event.raw);
  w.write(event.raw.slice(0, end));
  writeLogTail(w, event, tagJson, end);
}

/**
 * A log of more than this many characters is written a slice at a time, with a yield between: at most 64 KiB of
 * UTF-8 each, the room a piece writer keeps over its piece (body-render.ts), so that a 2 MB event does not grow
 * the piece writer of every sink to its size.
 */
export const SLICE_CHARS = 21_845;

/**
 * writeLog for a body rendered in pieces: writes the log now and returns undefined, or, for a log over
 * SLICE_CHARS, returns the generator that writes the same bytes a slice at a time (run it with `yield*`).
 */
export function writeLogInSlices(w: BodyWriter, event: ShipEvent, tagJson: string | undefined): Generator<void, void, void> | undefined {
  if (event instanceof StoredEvent && event.membersBytes >= 0) {
    // each piece of a stored event is at most one arena chunk (64 KiB): within the room a piece writer keeps
    if (event.rest) return writeStoredInSlices(w, event, tagJson);
  } else if (event.raw.length > SLICE_CHARS) return writeBigLog(w, event, tagJson);
  writeLog(w, event, tagJson);
  return undefined;
}

function* writeStoredInSlices(w: BodyWriter, event: StoredEvent, tagJson: string | undefined): Generator<void, void, void> {
  yield* writeStoredMembers(w, event);
  writeTail(w, event, tagJson);
}

/** A stored event's own members, as bytes, yielding between its chunks (checked: its batch must not be settled yet). */
function* writeStoredMembers(w: BodyWriter, event: StoredEvent): Generator<void, void, void> {
  const first = event.bytes(); // throws for an event of a released batch
  let left = event.membersBytes;
  w.writeBytes(first, 0, Math.min(left, first.length));
  left -= first.length;
  for (const piece of event.rest ?? []) {
    if (left <= 0) return;
    yield;
    w.writeBytes(piece, 0, Math.min(left, piece.length));
    left -= piece.length;
  }
}

/** writeLogTail for a stored event, whose members are its first `membersBytes` bytes. */
function writeTail(w: BodyWriter, event: StoredEvent, tagJson: string | undefined): void {
  writeOurKeys(w, event.time, tagJson, event.byteAt(event.membersBytes - 1) === 0x7b);
}

function* writeBigLog(w: BodyWriter, event: ShipEvent, tagJson: string | undefined): Generator<void, void, void> {
  if (rendersWhole(event)) {
    const text = renderLog(event, tagJson);
    yield* writeSliced(w, text, text.length);
    return;
  }
  const end = objectEnd(event.raw);
  yield* writeSliced(w, event.raw, end);
  writeLogTail(w, event, tagJson, end);
}

/** A line that is not an object, or an event with its own reserved keys: written as renderLog's one string. */
function rendersWhole(event: ShipEvent): boolean {
  return !event.isObject || hasReservedKey(event.raw);
}

function* writeSliced(w: BodyWriter, s: string, to: number): Generator<void, void, void> {
  for (let a = 0; a < to; ) {
    let b = Math.min(to, a + SLICE_CHARS);
    const c = s.charCodeAt(b - 1);
    if (b < to && c >= 0xd800 && c <= 0xdbff) b--; // never between the two halves of a surrogate pair
    w.write(s.slice(a, b));
    a = b;
    if (a < to) yield;
  }
}

/** What follows the event's own members, which end at `end`: a comma (none after an empty object's `{`), our keys. */
function writeLogTail(w: BodyWriter, event: ShipEvent, tagJson: string | undefined, end: number): void {
  writeOurKeys(w, event.time, tagJson, event.raw.charCodeAt(end - 1) === 0x7b);
}

/** A comma unless the members end with the object's `{` (an empty object), then our keys and the closing brace. */
function writeOurKeys(w: BodyWriter, time: number, tagJson: string | undefined, afterBrace: boolean): void {
  if (!afterBrace) w.write(',');
  w.write(tagJson === undefined ? `"__time__":${time}}` : `"__time__":${time},"__tag__":${tagJson}}`);
}
