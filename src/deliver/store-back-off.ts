/**
 * Batches sleeping out a retry delay: an acknowledgement (the store is back) cuts every one short, so that
 * none waits up to 30 s more once the store answers again (issue 10 item 12).
 */
export interface StoreBackOff {
  /** Sleeps `ms`; ends early when the store is back (if `interruptible`); rejects once `signal` aborts. */
  wait(ms: number, interruptible: boolean): Promise<void>;
  storeIsBack(): void;
}

export function createStoreBackOff(sleep: (ms: number, signal: AbortSignal) => Promise<void>, signal: AbortSignal): StoreBackOff {
  const backingOff = new Set<AbortController>();
  return {
    async wait(ms: number, interruptible: boolean): Promise<void> {
      const c = new AbortController();
      const onClose = (): void => c.abort();
      signal.addEventListener('abort', onClose, { once: true });
      if (interruptible) backingOff.add(c); // a store's Retry-After is honoured in full
      try {
        await sleep(ms, c.signal);
      } catch (e) {
        if (signal.aborted) throw e;
      } finally {
        backingOff.delete(c);
        signal.removeEventListener('abort', onClose);
      }
    },
    storeIsBack(): void {
      for (const c of backingOff) c.abort();
    },
  };
}
