/**
 * The sink contract, as far as it can be checked from outside (used until the shared suite
 * test/unit/deliver/sink-contract.ts lands): acknowledged means the store has every event; a failure is a
 * SinkError with a kind and a stable TAILSHIP_E_ code; close() may be called twice.
 */
import { expect, test } from 'vitest';
import type { Batch } from '../../../../src/batch/batch.js';
import { SinkError, type Sink } from '../../../../src/deliver/sink.js';
import { makeBatch } from '../support.js';

export interface ContractSubject {
  sink: Sink;
  /** Events the store holds for the given batch (after send resolved). */
  stored(batch: Batch): Promise<number> | number;
  /** Takes the store away (connections refused). */
  stop(): Promise<void>;
}

export function sinkContract(name: string, make: () => Promise<ContractSubject>): void {
  test(`${name} contract: acknowledged means the store has every event of the batch`, async () => {
    const s = await make();
    try {
      const batch = makeBatch({ n: 25 });
      await s.sink.send(batch);
      expect(await s.stored(batch)).toBe(25);
    } finally {
      await s.sink.close();
      await s.stop();
    }
  });

  test(`${name} contract: a store that is gone is a retryable SinkError with a stable code`, async () => {
    const s = await make();
    await s.stop();
    try {
      const err = await s.sink.send(makeBatch({ n: 2 })).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(SinkError);
      expect((err as SinkError).kind).toBe('retryable');
      expect((err as SinkError).code).toMatch(/^TAILSHIP_E_/);
    } finally {
      await s.sink.close();
    }
  });

  test(`${name} contract: close() is idempotent`, async () => {
    const s = await make();
    await s.sink.close();
    await s.sink.close();
    await s.stop();
  });
}
