import type { AckLedger } from '../ack/ack-ledger.js';
import type { Batch } from '../batch/batch.js';
import { Batcher } from '../batch/batcher.js';
import type { AgentOptions } from '../config/types.js';
import type { Deliverer } from '../deliver/deliverer.js';
import type { StreamRecord } from '../identity/stream-record.js';
import type { StreamAcks } from '../tail/context.js';
import type { Budget } from './wiring.js';

/**
 * The one narrow ack path: a sealed batch is tracked by the ledger and handed to the checkpointer (which sends it
 * once its range is persisted); the deliverer settles it; the ledger turns settlements into committed offsets;
 * the checkpointer saves them (`snapshot`).
 */
export interface AckPath {
  batcher: Batcher;
  /** To the deliverer; settles the batch once acknowledged (or dead-lettered). */
  send(batch: Batch): void;
  /** What tail/ sees of the acknowledgements. */
  acks: StreamAcks;
  /** The tailer's records with the ledger's sealed ends: what the checkpointer writes. */
  snapshot(records: StreamRecord[]): StreamRecord[];
}

export function createAckPath(
  opts: AgentOptions,
  d: { ledger: AckLedger; budget: Budget; deliverer: Deliverer; wake(): void; persistThenSend(batch: Batch): void },
): AckPath {
  const { ledger, budget } = d;
  const settle = (batch: Batch): void => {
    ledger.settle(batch.id);
    budget.bytes -= batch.range.end - batch.range.start;
    d.wake();
  };
  const batcher = new Batcher({ maxEvents: opts.batchMaxEvents, maxBytes: opts.batchMaxBytes, maxWaitMs: opts.batchMaxWait }, (batch) => {
    ledger.track(batch.id, batch.range.stream, batch.range.start, batch.range.end, lastEventMs(batch));
    if (batch.events.length === 0) settle(batch); // only empty lines: nothing to send
    else d.persistThenSend(batch);
  });
  return {
    batcher,
    // rejected only when aborted at shutdown: not acknowledged, so not committed; re-read after restart
    // settled by every sink: its events' bytes are reused from here on (batch/event-arena.ts)
    send: (b) =>
      void d.deliverer.deliver(b).then(
        () => {
          b.arena?.release();
          settle(b);
        },
        () => undefined,
      ),
    acks: { committed: (id) => ledger.position(id)?.committed, settled: (id) => ledger.position(id)?.settled ?? true, forget: (id) => ledger.forget(id) },
    // The sealed ends to persist: those of ranges sealed since the start, then the ends restored from the last
    // checkpoint that the re-read has not reached yet. Saved without these (the save right after a restart's
    // first discovery), a second crash lets the next start cut bytes already sent into other batches: other ids.
    snapshot: (records) =>
      records.map((r) => {
        const at = ledger.position(r.id);
        return at === undefined ? r : { ...r, sealed: [...at.sealed, ...batcher.pendingCuts(r.id)], lastEventMs: at.lastMs ?? r.lastEventMs };
      }),
  };
}

/** Event time of a batch's last event (Unix ms), kept per stream for the window of a later loss (SPEC §7). */
function lastEventMs(batch: Batch): number | undefined {
  const e = batch.events[batch.events.length - 1];
  return e && e.time * 1000 + Math.floor(e.timeNs / 1e6);
}
