import type { ShipEvent } from '../parse/ship-event.js';
import type { Batch, BatchTarget } from './batch.js';
import { EventArena } from './event-arena.js';

/** What every batch of one lane (an input's active path) shares. */
export interface LaneInfo {
  id: string;
  target: BatchTarget;
}

export interface BatchLimits {
  maxEvents: number;
  maxBytes: number;
  maxWaitMs: number;
}

interface OpenBatch {
  lane: LaneInfo;
  stream: string;
  start: number;
  end: number;
  events: ShipEvent[];
  rawBytes: number;
  openedAt: number;
  arena: EventArena;
}

/** A batch id that is the same for the same bytes of the same stream, across retries and restarts. */
export function batchId(stream: string, start: number, end: number): string {
  return `${stream}-${start}-${end}`;
}

/**
 * Groups events per lane and stream into batches closed by count, raw bytes or age. A batch covers one
 * contiguous byte range of one stream, empty lines included, so acknowledged ranges tile the file.
 * Forced cuts (the ends of batches sealed before a restart) make a re-read produce the same batches again.
 */
export class Batcher {
  readonly #open = new Map<string, OpenBatch>();
  readonly #cuts = new Map<string, number[]>();
  readonly #limits: BatchLimits;
  readonly #onSeal: (batch: Batch) => void;

  constructor(limits: BatchLimits, onSeal: (batch: Batch) => void) {
    this.#limits = limits;
    this.#onSeal = onSeal;
  }

  /** Batch ends to reproduce for a stream being re-read after a restart (ascending). */
  setCuts(stream: string, ends: number[]): void {
    if (ends.length > 0) this.#cuts.set(stream, [...ends]);
  }

  /**
   * Adds the bytes [start, end) of a stream; `event` is undefined for bytes that carry no log (an empty line).
   */
  add(lane: LaneInfo, stream: string, start: number, end: number, event: ShipEvent | undefined, bytes: number, now: number): void {
    let b = this.#open.get(lane.id);
    if (b && (b.stream !== stream || b.end !== start)) {
      this.#seal(b);
      b = undefined;
    }
    if (!b) {
      b = { lane, stream, start, end: start, events: [], rawBytes: 0, openedAt: now, arena: new EventArena() };
      this.#open.set(lane.id, b);
    }
    b.end = end;
    if (event) {
      b.events.push(b.arena.store(event));
      b.rawBytes += bytes;
    }
    const cuts = this.#cuts.get(stream);
    if (cuts) {
      while (cuts.length > 0 && cuts[0]! < end) cuts.shift();
      if (cuts.length === 0) this.#cuts.delete(stream);
      else if (cuts[0] === end) {
        cuts.shift();
        if (cuts.length === 0) this.#cuts.delete(stream);
        this.#seal(b);
        return;
      } else if (b.rawBytes < this.#limits.maxBytes * 4) {
        return; // reproducing an earlier batch: only its own end closes it (bounded by a hard size cap)
      }
    }
    if (b.events.length >= this.#limits.maxEvents || b.rawBytes >= this.#limits.maxBytes) this.#seal(b);
  }

  /** Seals batches older than the wait limit; returns the delay until the next one is due (or undefined). */
  sealDue(now: number): number | undefined {
    let next: number | undefined;
    for (const b of this.#open.values()) {
      if (this.#cuts.has(b.stream)) continue;
      const due = b.openedAt + this.#limits.maxWaitMs;
      if (due <= now) this.#seal(b);
      else next = Math.min(next ?? Infinity, due - now);
    }
    return next;
  }

  /** Seals the open batch of one stream (its file is finished) or of every lane (shutdown). */
  sealStream(stream: string): void {
    for (const b of this.#open.values()) if (b.stream === stream) this.#seal(b);
  }

  sealAll(): void {
    for (const b of [...this.#open.values()]) this.#seal(b);
  }

  /** The forced cuts of a stream not reproduced yet: still to be persisted (a crash before the re-read keeps them). */
  pendingCuts(stream: string): readonly number[] {
    return this.#cuts.get(stream) ?? [];
  }

  get openCount(): number {
    return this.#open.size;
  }

  #seal(b: OpenBatch): void {
    this.#open.delete(b.lane.id);
    this.#onSeal({
      ...b.lane.target,
      id: batchId(b.stream, b.start, b.end),
      events: b.events,
      rawBytes: b.rawBytes,
      range: { stream: b.stream, start: b.start, end: b.end },
      arena: b.arena,
    });
  }
}
