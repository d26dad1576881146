import type { Clock } from './clock.js';

export const POLL_MS = 250;
/** Idle, the poll backs off (doubling) to this: the directory watch wakes it on any change meanwhile. */
export const IDLE_POLL_MAX_MS = 2000;
const IDLE_AFTER_STEPS = 4;

/** What one step of the loop drives; each part is a plain object the agent wires (tests pass fakes). */
export interface LoopParts {
  tailer: { discover(): Promise<void>; read(): Promise<number>; caughtUp(): boolean; watchDirs(): string[] };
  /** Directories to watch for hints while the poll is backed off (discover/dir-watch.ts). */
  watch(dirs: string[]): void;
  batcher: { sealAll(): void; sealDue(now: number): number | undefined; readonly openCount: number };
  checkpointer: { schedule(): void; readonly idle: boolean };
  /** Batches sealed and not yet acknowledged. */
  pendingBatches(): number;
  /** The in-flight budget is spent: reading waits for acknowledgements. */
  overBudget(): boolean;
  /** Called every step (the 30 s progress line decides itself when to log). */
  progress(caughtUp: boolean): void;
  /** The poll backed off (nothing moved for a while): a directory change should wake the loop (true), or no longer (false). */
  idle?(backedOff: boolean): void;
  exitWhenIdle: boolean;
  clock: Clock;
}

export interface StepResult {
  /** --exit-when-idle: everything is read, sent and acknowledged. */
  idle: boolean;
  /** How long to wait before the next step (0: go on at once); a hint or an acknowledgement cuts it short. */
  sleepMs: number;
}

/**
 * One poll cycle per `step(now)`: discover when the poll is due (or a directory hint came), read within the
 * budget, seal batches that are due, schedule the group commit, and say how long to wait. No timers of its own.
 */
export class RunLoop {
  readonly #p: LoopParts;
  #lastDiscover: number;
  #discoverNow = false;
  /** The poll interval now: POLL_MS while data moves, doubling to IDLE_POLL_MAX_MS while nothing does. */
  #pollMs = POLL_MS;
  #idleSteps = 0;

  constructor(parts: LoopParts) {
    this.#p = parts;
    this.#lastDiscover = parts.clock.now();
  }

  /** The first discovery ran at `now` (the agent's start, before the first step). */
  discovered(now: number): void {
    this.#lastDiscover = now;
  }

  /** A name changed in a watched directory: look at it on the next step, not at the next poll. */
  hint(): void {
    this.#discoverNow = true;
  }

  async step(now: number): Promise<StepResult> {
    const p = this.#p;
    if (this.#discoverNow || now - this.#lastDiscover >= this.#pollMs) {
      this.#discoverNow = false;
      await p.tailer.discover();
      p.watch(p.tailer.watchDirs());
      this.#lastDiscover = now;
    }
    const n = await p.tailer.read();
    const caughtUp = n === 0 && p.tailer.caughtUp();
    // Reading waits for acknowledgements: an open batch could only wait too, so it is sent now (the budget's
    // room then goes to batches in flight, not to a batch nobody sends).
    const overBudget = p.overBudget();
    if ((caughtUp && p.exitWhenIdle) || overBudget) p.batcher.sealAll();
    const due = p.batcher.sealDue(p.clock.now());
    p.checkpointer.schedule();
    p.progress(caughtUp);
    if (p.exitWhenIdle && caughtUp && p.batcher.openCount === 0 && p.pendingBatches() === 0 && p.checkpointer.idle) {
      return { idle: true, sleepMs: 0 };
    }
    const wait = n === 0 || overBudget;
    const sleepMs = wait ? Math.min(this.#pollMs, due ?? this.#pollMs) : 0;
    this.#pace(n > 0 || !caughtUp || p.pendingBatches() > 0 || p.batcher.openCount > 0);
    return { idle: false, sleepMs };
  }

  /** Idle CPU (issue 10 item 12): back off the poll while nothing moves, back to 250 ms as soon as it does. */
  #pace(moving: boolean): void {
    const was = this.#pollMs;
    this.#idleSteps = moving ? 0 : this.#idleSteps + 1;
    // a second of quiet polls first: a writer between two events is not idle
    this.#pollMs = this.#idleSteps <= IDLE_AFTER_STEPS ? POLL_MS : Math.min(IDLE_POLL_MAX_MS, this.#pollMs * 2);
    if ((was > POLL_MS) !== (this.#pollMs > POLL_MS)) this.#p.idle?.(this.#pollMs > POLL_MS);
  }
}

/** A sleep that `wake()` ends early (an acknowledgement, a directory hint, a stop). */
export class Waker {
  readonly #clock: Clock;
  #wake: (() => void) | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        cancel();
        this.#wake = undefined;
        resolve();
      };
      const cancel = this.#clock.after(ms, done);
      this.#wake = done;
    });
  }

  wake(): void {
    this.#wake?.();
  }
}
