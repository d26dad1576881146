import { ErrorCodes, TailshipError } from '../errors.js';
import { hasReservedKey, objectEnd } from '../parse/log-text.js';
import type { ShipEvent } from '../parse/ship-event.js';

/**
 * A batch's event texts, kept as UTF-8 bytes outside the V8 heap until every sink settled the batch.
 *
 * Why: held as strings, the texts of the batches in flight (~0.3 s of them at 10 MB/s) outlive two scavenges,
 * so the V8 old generation grew by the whole read rate and a full GC ran every ~0.8 s (bench/README.md).
 * Here a line's string dies in the tick it was read, and its bytes sit in chunks that are reused as soon as
 * the batch is settled: V8 sees only a small object per event.
 *
 * One owner: the open batch's arena is filled by the batcher, passed with the sealed batch, and released by
 * the ack path once the deliverer settled the batch (run/ack-path.ts). Reading an event after that is a bug,
 * and throws instead of returning another batch's bytes.
 */

/** Chunk size: the tail a chunk wastes when the next event does not fit is at most one event (and a stored
 *  event fits the room a piece writer keeps, render.ts). */
export const CHUNK_BYTES = 64 << 10;
/** Chunks are cut from slabs of this size: over glibc's mmap threshold (the image sets it to 128 KiB), so the
 *  memory of a slab let go returns to the system instead of staying in the malloc heap. */
const SLAB_CHUNKS = 4;
/** Free chunks kept for the next batches (8 MiB); more go to GC. */
const POOL_MAX = 128;
const pool: Buffer[] = [];
/**
 * Arenas that hold chunks. When the last of them is released nothing is being batched, and the pool is let go:
 * an agent that caught up on a backlog, then idles or trickles, keeps no batch memory (the pool held ~8 MB
 * after a backlog, for good). While batches follow each other, the open batch holds chunks and the pool stays.
 */
let holding = 0;

/** One event of a sealed batch: its text is the bytes [from, to) of `buf`, then the chunks of `rest`, if any. */
export class StoredEvent implements ShipEvent {
  constructor(
    readonly buf: Buffer,
    readonly from: number,
    readonly to: number,
    /** The text's further bytes, one view per chunk, for a text over what one chunk holds (else undefined).
     *  Each piece holds whole characters. */
    readonly rest: readonly Buffer[] | undefined,
    /** How many bytes of the text are the object's own members (all before its closing brace), or -1 when it
     *  is rendered whole (not an object, or an object with our reserved keys: render.ts). */
    readonly membersBytes: number,
    readonly isObject: boolean,
    readonly time: number,
    readonly timeNs: number,
    readonly markers: Record<string, string> | undefined,
    readonly arena: EventArena,
  ) {}

  /** The text, decoded anew at each read (callers keep it while they need it). */
  get raw(): string {
    let text = this.bytes().toString('utf8');
    if (this.rest) for (const piece of this.rest) text += piece.toString('utf8');
    return text;
  }

  /** The bytes in `buf` (a view, valid until the batch is settled; the whole text unless `rest` is set). */
  bytes(): Buffer {
    this.assertLive();
    return this.buf.subarray(this.from, this.to);
  }

  /** Throws when the batch was settled: its chunks may hold another batch's bytes by now. */
  assertLive(): void {
    if (this.arena.released) {
      throw new TailshipError(ErrorCodes.EVENT_RELEASED, 'an event of a settled batch was read after its batch was released', 'report this as a bug');
    }
  }

  /** The byte at `i` of the text. */
  byteAt(i: number): number | undefined {
    if (this.from + i < this.to || !this.rest) return this.buf[this.from + i];
    i -= this.to - this.from;
    for (const piece of this.rest) {
      if (i < piece.length) return piece[i];
      i -= piece.length;
    }
    return undefined;
  }
}

/** Writes texts over what is left of a chunk a piece at a time (`encodeInto` says how much of the text it took). */
const encoder = new TextEncoder();
/** The most bytes one character takes in UTF-8: a piece is started only where at least this much room is left. */
const MAX_CHAR_BYTES = 4;

export class EventArena {
  /** Pooled chunks, handed back on release. */
  readonly #chunks: Buffer[] = [];
  #cur: Buffer | undefined;
  #used = 0;
  #released = false;

  get released(): boolean {
    return this.#released;
  }

  /** `event` with its text copied in: into what is left of the current chunk, or across as many as it needs. */
  store(event: ShipEvent): ShipEvent {
    if (event instanceof StoredEvent && event.arena === this) return event;
    const raw = event.raw;
    const membersChars = !event.isObject || hasReservedKey(raw) ? -1 : objectEnd(raw);
    if (!this.#room(raw)) return this.#storeAcross(event, raw, membersChars);
    const buf = this.#cur!;
    const at = this.#used;
    const n = buf.write(raw, at);
    this.#used = at + n;
    // what follows the members (the brace and any whitespace) is ASCII: as many bytes as characters
    const membersBytes = membersChars < 0 ? -1 : n - (raw.length - membersChars);
    return new StoredEvent(buf, at, at + n, undefined, membersBytes, event.isObject, event.time, event.timeNs, event.markers, this);
  }

  /** The batch is settled: its chunks go back to the pool. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    if (this.#chunks.length > 0) holding--;
    for (const c of this.#chunks) if (pool.length < POOL_MAX) pool.push(c);
    this.#chunks.length = 0;
    this.#cur = undefined;
    if (holding === 0) pool.length = 0;
  }

  /** Whether `raw` fits what is left of the current chunk, which is replaced when it does not and `raw` fits a chunk. */
  #room(raw: string): boolean {
    // A UTF-16 unit takes at most 3 UTF-8 bytes; measure exactly only when the cheap bound does not fit.
    const left = this.#cur ? this.#cur.length - this.#used : -1;
    if (raw.length * 3 <= left) return true;
    const need = Buffer.byteLength(raw);
    if (need <= left) return true;
    if (need > CHUNK_BYTES) return false;
    this.#nextChunk();
    return true;
  }

  /**
   * A text over a chunk (a big response body in the event: ~11 % of a realistic log's bytes are in lines over
   * 128 KiB), written from what is left of the current chunk on. Kept as a string, it stayed in the V8 heap for
   * as long as its batch was in flight: promoted, and freed only by the next full GC (~1 MB/s at 10 MB/s read).
   */
  #storeAcross(event: ShipEvent, raw: string, membersChars: number): StoredEvent {
    const pieces: Buffer[] = [];
    let read = 0;
    let total = 0;
    while (read < raw.length) {
      if (!this.#cur || this.#cur.length - this.#used < MAX_CHAR_BYTES) this.#nextChunk();
      const cur = this.#cur!;
      const r = encoder.encodeInto(read === 0 ? raw : raw.slice(read), cur.subarray(this.#used));
      pieces.push(cur.subarray(this.#used, this.#used + r.written));
      this.#used += r.written;
      read += r.read;
      total += r.written;
    }
    const first = pieces.shift()!;
    const membersBytes = membersChars < 0 ? -1 : total - (raw.length - membersChars);
    return new StoredEvent(first, 0, first.length, pieces, membersBytes, event.isObject, event.time, event.timeNs, event.markers, this);
  }

  #nextChunk(): void {
    if (this.#chunks.length === 0) holding++;
    this.#cur = pool.pop() ?? newChunk();
    this.#chunks.push(this.#cur);
    this.#used = 0;
  }
}

/** A chunk of a new slab; the slab's other chunks go to the pool. */
function newChunk(): Buffer {
  const slab = Buffer.allocUnsafeSlow(CHUNK_BYTES * SLAB_CHUNKS);
  for (let i = 1; i < SLAB_CHUNKS; i++) pool.push(slab.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES));
  return slab.subarray(0, CHUNK_BYTES);
}
