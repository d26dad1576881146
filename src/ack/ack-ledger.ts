/**
 * Which byte ranges of each stream are sealed into batches and which of those the store acknowledged.
 * The committed offset of a stream is the end of the longest acknowledged prefix: a later batch acknowledged
 * first waits for the earlier one, and a batch never acknowledged holds the commit point where it is
 * (nothing is skipped — architecture notes, pitfall 3).
 */
interface Range {
  batchId: string;
  start: number;
  end: number;
  settled: boolean;
  /** Event time (Unix ms) of the batch's last event. */
  lastMs?: number;
}

interface StreamLedger {
  committed: number;
  /** Event time of the last committed event, when known. */
  lastMs?: number;
  ranges: Range[]; // in offset order, contiguous from `committed`
}

export class AckLedger {
  readonly #streams = new Map<string, StreamLedger>();
  readonly #byBatch = new Map<string, { stream: string; range: Range }>();
  #version = 0;

  // The narrow ack path: the deliverer settles a batch (settle), the ledger turns settlements into committed
  // offsets (position), the checkpointer saves them when `version` moved.

  /** Starts tracking a stream whose bytes before `committed` are already acknowledged. */
  open(stream: string, committed: number, lastMs?: number): void {
    if (!this.#streams.has(stream)) this.#streams.set(stream, { committed, lastMs, ranges: [] });
  }

  /** A batch covering [start, end) of `stream` was sealed. Ranges of a stream arrive in offset order. */
  track(batchId: string, stream: string, start: number, end: number, lastMs?: number): void {
    const s = this.#streams.get(stream);
    if (!s) throw new Error(`ack ledger: stream ${stream} was not opened`);
    const range: Range = { batchId, start, end, settled: false, lastMs };
    s.ranges.push(range);
    this.#byBatch.set(batchId, { stream, range });
    this.#version++;
  }

  /** The store acknowledged the batch (or it was dead-lettered, which counts as handled). */
  settle(batchId: string): void {
    const entry = this.#byBatch.get(batchId);
    if (!entry) return;
    this.#byBatch.delete(batchId);
    entry.range.settled = true;
    const s = this.#streams.get(entry.stream)!;
    let advanced = false;
    while (s.ranges.length > 0 && s.ranges[0]!.settled) {
      const r = s.ranges.shift()!;
      s.committed = r.end;
      if (r.lastMs !== undefined) s.lastMs = r.lastMs;
      advanced = true;
    }
    if (advanced) this.#version++;
  }

  /**
   * Where a tracked stream stands: the committed offset and the ends of its sealed, not yet committed ranges
   * (persisted so a restart re-cuts the same batches); `settled` when nothing sealed waits for an ack.
   */
  position(stream: string): { committed: number; sealed: number[]; settled: boolean; lastMs?: number } | undefined {
    const s = this.#streams.get(stream);
    return s && { committed: s.committed, sealed: s.ranges.map((r) => r.end), settled: s.ranges.length === 0, lastMs: s.lastMs };
  }

  /** Batches sealed and not yet settled. */
  get pending(): number {
    return this.#byBatch.size;
  }

  forget(stream: string): void {
    const s = this.#streams.get(stream);
    if (!s) return;
    for (const r of s.ranges) this.#byBatch.delete(r.batchId);
    this.#streams.delete(stream);
    this.#version++;
  }

  /** Changes whenever a commit point or the set of sealed ranges changes (cheap dirty check for the checkpointer). */
  get version(): number {
    return this.#version;
  }
}
