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
 * one when changed: processors never mutate their argument), null to drop it, or several events (a stage that
 * joins or releases held events, such as the legacy two-line join). A dropped event still acknowledges its
 * bytes with its batch: the committed offset moves past it and it is never read again.
 */
export type ProcessorResult = ShipEvent | null | ShipEvent[];
export type EventProcessor = (event: ShipEvent, ctx: EventContext) => ProcessorResult;

/** Runs the processors in order; each event a stage returns passes the stages after it. No array on the hot path. */
export function runProcessors(processors: readonly EventProcessor[], event: ShipEvent, ctx: EventContext, from = 0): ProcessorResult {
  let ev: ShipEvent = event;
  for (let i = from; i < processors.length; i++) {
    const r = processors[i]!(ev, ctx);
    if (r === null) return null;
    if (Array.isArray(r)) {
      const out: ShipEvent[] = [];
      for (const e of r) {
        const rest = runProcessors(processors, e, ctx, i + 1);
        if (rest === null) continue;
        if (Array.isArray(rest)) out.push(...rest);
        else out.push(rest);
      }
      return out;
    }
    ev = r;
  }
  return ev;
}
