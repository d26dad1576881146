/**
 * At most `concurrency` holders at once; more wait in FIFO order. A released slot passes straight to the next
 * waiter, so a holder that keeps its slot while it backs off keeps a failing store from being hit harder.
 */
export interface Slots {
  acquire(): Promise<void>;
  release(): void;
  /** Rejects every waiter (close): they never get a slot, so they never release one. */
  rejectWaiting(reason: () => unknown): void;
}

export function createSlots(concurrency: number): Slots {
  let running = 0;
  const waiting: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  return {
    acquire(): Promise<void> {
      if (running < concurrency) {
        running++;
        return Promise.resolve();
      }
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    release(): void {
      const next = waiting.shift();
      if (next) next.resolve(); // the slot passes straight on: `running` stays the same
      else running--;
    },
    rejectWaiting(reason: () => unknown): void {
      for (const w of waiting.splice(0)) w.reject(reason());
    },
  };
}
