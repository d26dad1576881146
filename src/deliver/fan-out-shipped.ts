// tailship_events_shipped_total with several sinks (SPEC §5: per logstore): an event counts once, when every sink
// settled it, not once per sink. Each sink's own count is tailship_sink_events_total{sink}.
import type { Batch } from '../batch/batch.js';

/** What the sinks did with one batch: per sink, how many of its events it kept (after its stages) and acknowledged. */
export interface Settled<K> {
  sent(leg: K, kept: number): void;
  acked(leg: K, events: number): void;
  /**
   * Events of the batch every sink settled without the dead letter: for each sink, what it acknowledged plus what
   * its own stages dropped; the least of these (exact unless a stage turns one event into several). 0 when no
   * sink acknowledged anything.
   */
  count(): number;
}

/** Batches being delivered, by id, so a sink's acknowledged part (split halves are `${id}.0`, …) finds its batch. */
export function shippedCounter<K>() {
  const open = new Map<string, Settled<K>>();
  return {
    open(batch: Batch): Settled<K> {
      const total = batch.events.length;
      const kept = new Map<K, number>();
      const acked = new Map<K, number>();
      const s: Settled<K> = {
        sent: (leg, n) => void kept.set(leg, n),
        acked: (leg, n) => void acked.set(leg, (acked.get(leg) ?? 0) + n),
        count() {
          let any = 0;
          let least = total;
          for (const [leg, k] of kept) {
            const a = acked.get(leg) ?? 0;
            any += a;
            least = Math.min(least, Math.max(0, total - k) + a);
          }
          return any === 0 ? 0 : Math.max(0, Math.min(total, least));
        },
      };
      open.set(batch.id, s);
      return s;
    },
    close: (batch: Batch) => void open.delete(batch.id),
    acked(leg: K, part: Batch): void {
      let id = part.id;
      while (!open.has(id) && id.includes('.')) id = id.slice(0, id.lastIndexOf('.'));
      open.get(id)?.acked(leg, part.events.length);
    },
  };
}
