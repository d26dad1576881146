import type { Clock } from '../../../src/run/clock.js';

/** A clock that moves only when the test says so; timers fire in time order inside `advance`. */
export class FakeClock implements Clock {
  t = 0;
  #timers: Array<{ at: number; fn: () => void; every?: number; id: number }> = [];
  #id = 0;

  now(): number {
    return this.t;
  }

  after(ms: number, fn: () => void): () => void {
    const id = ++this.#id;
    this.#timers.push({ at: this.t + ms, fn, id });
    return () => void (this.#timers = this.#timers.filter((x) => x.id !== id));
  }

  every(ms: number, fn: () => void): () => void {
    const id = ++this.#id;
    this.#timers.push({ at: this.t + ms, fn, every: ms, id });
    return () => void (this.#timers = this.#timers.filter((x) => x.id !== id));
  }

  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing each due timer at its own time. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const next = this.#timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.t = next.at;
      if (next.every) next.at += next.every;
      else this.#timers = this.#timers.filter((x) => x !== next);
      next.fn();
    }
    this.t = end;
  }
}
