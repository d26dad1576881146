import type { Batch } from '../batch/batch.js';

export type BlockedGate = ReturnType<typeof createBlockedGate>;

/**
 * While the store answers 'blocked' (bad credentials, missing project…) one batch, the prober, retries slowly;
 * every other batch waits here instead of adding its own attempts. Any answer other than 'blocked' opens it.
 */
export function createBlockedGate(signal: AbortSignal) {
  let prober: Batch | undefined;
  let open: (() => void) | undefined;
  let opened: Promise<void> = Promise.resolve();

  return {
    /** Resolves when this batch may send. */
    async passage(batch: Batch): Promise<void> {
      while (prober && prober !== batch) {
        await abortable(opened, signal);
      }
    },
    /** Records a 'blocked' answer; true when this batch is (now) the prober and should back off and retry. */
    block(batch: Batch): boolean {
      if (!prober) {
        prober = batch;
        opened = new Promise((resolve) => (open = resolve));
      }
      return prober === batch;
    },
    storeAnswered(): void {
      if (!prober) return;
      prober = undefined;
      open?.();
    },
  };
}

function abortable(p: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
