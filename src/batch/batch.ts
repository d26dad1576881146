import type { ShipEvent } from '../parse/ship-event.js';
import type { EventArena } from './event-arena.js';

/** A byte range of one stream (file identity) that a batch carries: [start, end). */
export interface StreamRange {
  stream: string;
  start: number;
  end: number;
}

/** Where a batch goes and what it carries besides its logs: the same for every batch of one lane. */
export interface BatchTarget {
  inputKey: string;
  logstore: string;
  project?: string;
  product?: string;
  /** The host name (SLS `Source`, HTTP `source`). */
  source: string;
  /** Input tags plus `__hostname__` and `__path__`. */
  tags: Record<string, string>;
  /** Logstore creation parameters of the input (SLS creates a missing logstore with them). */
  shard: number;
  ttl: number;
  logstoreMode: 'standard' | 'query';
}

/**
 * Logs of one input that share logstore, project and every tag (input tags, `__hostname__`, `__path__`),
 * read from one stream in one contiguous byte range. Sealed batches never change.
 */
export interface Batch extends BatchTarget {
  /** Stable across retries and restarts: derived from the stream identity and the byte range. */
  id: string;
  events: ShipEvent[];
  /** Sum of the events' raw line bytes. */
  rawBytes: number;
  range: StreamRange;
  /** Where the batcher keeps its events' bytes: released by the ack path once the batch is settled. */
  arena?: EventArena;
}
