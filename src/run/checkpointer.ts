import type { Batch } from '../batch/batch.js';
import type { StreamRecord } from '../identity/stream-record.js';
import type { Clock } from './clock.js';

/** Sealed batches wait this long at most for their range to be persisted before they are sent. */
export const SEAL_PERSIST_MS = 25;
export const CHECKPOINT_EVERY_MS = 1000;

export interface CheckpointStore {
  save(records: StreamRecord[]): Promise<void>;
  saveSync(records: StreamRecord[]): void;
}

export interface CheckpointerDeps {
  store: CheckpointStore;
  /** The records to persist now (file table + ledger). */
  snapshot(): StreamRecord[];
  /** Changes whenever what `snapshot` would say about commits or sealed ranges changes. */
  version(): number;
  /** Hands a batch whose range is persisted to the deliverer. */
  send(batch: Batch): void;
  clock: Clock;
  /** The checkpoint file could not be written (`err`), or is written again (undefined). */
  onWriteState(err: Error | undefined): void;
  /** Called on every periodic tick, after the save decision (gauges). */
  onTick?(): void;
}

/**
 * Owns when and what is saved. Two rhythms: a periodic save (every second, when commits moved) and a prompt
 * group commit of sealed ranges: a sealed batch is sent only once a checkpoint naming its range is on disk, so a
 * restart re-cuts the same batches (stable ids, the store can dedupe). Batches sealed within SEAL_PERSIST_MS
 * share one write.
 */
export class Checkpointer {
  readonly #d: CheckpointerDeps;
  #waiting: Batch[] = [];
  #saving: Promise<void> | undefined;
  #savedVersion = -1;
  #failing = false;
  /** No periodic save before the first discovery: an empty snapshot would overwrite the checkpoints being resumed. */
  #ready = false;
  #cancelSeal: (() => void) | undefined;
  #stopTick: (() => void) | undefined;

  constructor(deps: CheckpointerDeps) {
    this.#d = deps;
    this.#stopTick = deps.clock.every(CHECKPOINT_EVERY_MS, () => {
      // while failing, every tick tries again: the batches that wait are sent once their ranges are saved
      if (this.#ready && (deps.version() !== this.#savedVersion || this.#failing) && !this.#saving) void this.save();
      deps.onTick?.();
    });
  }

  /** The first plan is saved: periodic saves may start. */
  begin(): void {
    this.#ready = true;
  }

  /** Not ready while checkpoints cannot be written: progress would be lost on a restart. */
  get failing(): boolean {
    return this.#failing;
  }

  /** Progress exists that the checkpoint file does not hold yet (feeds tailship_checkpoint_age_seconds). */
  get dirty(): boolean {
    return this.#d.version() !== this.#savedVersion;
  }

  /** Nothing waits to be persisted and no write is running. */
  get idle(): boolean {
    return this.#waiting.length === 0 && !this.#saving;
  }

  /** A sealed batch with events: sent once its range is persisted (see `schedule`). */
  sealed(batch: Batch): void {
    this.#waiting.push(batch);
  }

  /** Starts the group-commit timer if sealed batches wait and none runs. */
  schedule(): void {
    // while failing, the 1 s tick retries: no write attempt every step
    if (this.#cancelSeal || this.#waiting.length === 0 || this.#failing) return;
    this.#cancelSeal = this.#d.clock.after(SEAL_PERSIST_MS, () => {
      this.#cancelSeal = undefined;
      void this.save();
    });
  }

  /**
   * Saves the snapshot now (after a running save), then sends the batches that waited for it. A failed write
   * sends nothing (SPEC §11: nothing is sent whose checkpoint cannot be saved): the batches wait, reading stops
   * at the in-flight budget, and the next tick tries again. The failure is reported once, and its end.
   */
  async save(): Promise<void> {
    while (this.#saving) await this.#saving;
    const version = this.#d.version();
    const batches = this.#waiting;
    this.#waiting = [];
    this.#saving = this.#d.store.save(this.#d.snapshot()).then(
      () => {
        this.#savedVersion = version;
        if (this.#failing) this.#d.onWriteState(undefined);
        this.#failing = false;
      },
      (e: Error) => {
        if (!this.#failing) this.#d.onWriteState(e);
        this.#failing = true;
      },
    );
    await this.#saving;
    this.#saving = undefined;
    if (this.#failing) {
      this.#waiting = [...batches, ...this.#waiting];
      return;
    }
    for (const b of batches) this.#d.send(b);
  }

  /** For an immediate exit (second signal): persist what is acknowledged, synchronously. */
  saveSync(): void {
    this.#d.store.saveSync(this.#d.snapshot());
  }

  /** Shutdown: the caller saves at once instead of waiting for the group-commit timer. */
  cancelScheduled(): void {
    this.#cancelSeal?.();
    this.#cancelSeal = undefined;
  }

  /** Shutdown, once deliveries are over: no more periodic saves (the last save is the caller's). */
  stopTick(): void {
    this.#stopTick?.();
    this.#stopTick = undefined;
  }
}
