import type { ShipEvent } from '../parse/ship-event.js';

/**
 * The stage hook between parse and batch (SPEC §6): every event of a JSON input passes each processor in
 * turn, in read order. Audit features (policy, redaction, trim, identity) are processors; so are the
 * per-sink `?policy=` / `?redact=` stages, run on a batch's events before that sink renders them.
 */
export interface EventContext {
  /** The input's key (the `input` label of per-input metrics). */
  inputKey: string;
  /** Stream (file identity) the line was read from, and the byte offset where the line starts. */
  stream: string;
  offset: number;
  /** The input's tags as shipped (input tags, `__hostname__`, `__path__`, `__cluster_id__` when known). */
  tags: Readonly<Record<string, string>>;
}

/**
 * A plain, synchronous function of one event. Returns the event to keep (the same object when unchanged, a new
 * one when changed: processors never mutate their argument), or null to drop it. A dropped event still
 * acknowledges its bytes with its batch: the committed offset moves past it and it is never read again.
 */
export type EventProcessor = (event: ShipEvent, ctx: EventContext) => ShipEvent | null;

/** Runs the processors in order; stops at the first that drops the event. */
export function runProcessors(processors: readonly EventProcessor[], event: ShipEvent, ctx: EventContext): ShipEvent | null {
  let ev: ShipEvent | null = event;
  for (let i = 0; i < processors.length && ev !== null; i++) ev = processors[i]!(ev, ctx);
  return ev;
}
