// One sink of the fan-out (a leg): its sink, deliverer, own stages and conversion, and the state the status and
// the metrics report (pending batches, failing since). This module is the only writer of that state.
import type { Batch } from '../batch/batch.js';
import { ErrorCodes } from '../errors.js';
import type { ShipEvent } from '../parse/ship-event.js';
import { runProcessors, type EventProcessor } from '../process/stage.js';
import { renderEvent, type SchemaChoice } from '../schema/index.js';
import type { CreateSinkContext } from './create-sink.js';
import type { DeadLetterSpool } from './dead-letter.js';
import { createDeliverer, type Deliverer, type DelivererOptions, type DeliveryOutcome } from './deliverer.js';
import type { Settled } from './fan-out-shipped.js';
import { takeConversion, takeFanOutParams, type MakeSinkStages } from './fan-out-params.js';
import type { Sink } from './sink.js';
import type { SinkMetrics } from './sink-metrics.js';

export interface Leg {
  label: string;
  sink: Sink;
  deliverer: Deliverer;
  stages: EventProcessor[];
  /** Set when the fan-out renders this sink's events in a schema (sinks that do not read ?schema= themselves). */
  convert?: SchemaChoice;
  pending: number;
  failingSince?: number;
  lastError?: string;
}

/** What every leg of one fan-out is made with. */
export interface LegMaker {
  ctx: CreateSinkContext;
  deadLetter: DeadLetterSpool;
  makeStages: MakeSinkStages;
  make: (uri: string, ctx: CreateSinkContext) => Sink;
  metrics: SinkMetrics;
  now: () => number;
  deliverer: Partial<Omit<DelivererOptions, 'sink' | 'deadLetter' | 'metrics' | 'logger'>> | undefined;
  /** With several sinks: the fan-out counts each acknowledged part (once per event); undefined with one sink. */
  acked: ((leg: Leg, part: Batch) => void) | undefined;
  /** Labels given so far, by base name: a repeat gets `-2`, `-3`. */
  seen: Map<string, number>;
}

export function makeLeg(uri: string, m: LegMaker): Leg {
  const { rest, spec, name } = takeFanOutParams(uri);
  const { convert, sinkUri } = takeConversion(rest);
  const sink = m.make(sinkUri, m.ctx);
  const label = uniqueLabel(name ?? sink.name, m.seen);
  const leg: Leg = { label, sink, deliverer: undefined as unknown as Deliverer, stages: m.makeStages(spec, label), convert, pending: 0 };
  const acked = m.acked;
  // With several sinks the fan-out counts tailship_events_shipped_total (once per event); one sink counts its own.
  const onShipped = acked ? (part: Batch) => acked(leg, part) : undefined;
  leg.deliverer = createDeliverer({ ...m.deliverer, sink: observedSink(leg, m), deadLetter: m.deadLetter, metrics: m.ctx.metrics, logger: m.ctx.logger.child({ sink: label }), ...(onShipped ? { onShipped } : {}) });
  m.metrics.up.set({ sink: label }, 1);
  m.metrics.pending.set({ sink: label }, 0);
  return leg;
}

function uniqueLabel(base: string, seen: Map<string, number>): string {
  const n = (seen.get(base) ?? 0) + 1;
  seen.set(base, n);
  return n === 1 ? base : `${base}-${n}`;
}

/** The leg's sink, keeping its failing-since, last error and tailship_sink_up current. */
function observedSink(leg: Leg, m: LegMaker): Sink {
  const { sink, label } = leg;
  return {
    name: label,
    async send(batch, signal) {
      try {
        await sink.send(batch, signal);
        if (leg.failingSince !== undefined) m.ctx.logger.info({ sink: label }, `sink ${label} answers again`);
        leg.failingSince = undefined;
        leg.lastError = undefined;
        m.metrics.up.set({ sink: label }, 1);
      } catch (e) {
        // Elasticsearch answered, only some items are to be sent again: the store is up
        if ((e as { code?: string }).code === ErrorCodes.SINK_ES_ITEMS_RETRY) throw e;
        leg.failingSince ??= m.now();
        leg.lastError = e instanceof Error ? e.message : String(e);
        // too-large is split and rejected is dead-lettered by the deliverer: the sink itself is up
        const kind = (e as { kind?: string }).kind;
        if (kind === 'retryable' || kind === 'blocked' || kind === undefined) m.metrics.up.set({ sink: label }, 0);
        throw e;
      }
    },
    close: () => sink.close(),
  };
}

export async function deliverLeg(leg: Leg, batch: Batch, metrics: SinkMetrics, settled?: Settled<Leg>): Promise<DeliveryOutcome> {
  const own = legBatch(leg, batch);
  settled?.sent(leg, own.events.length);
  if (own.events.length === 0) return 'delivered'; // every event dropped for this sink: nothing to send
  leg.pending++;
  metrics.pending.set({ sink: leg.label }, leg.pending);
  try {
    const outcome = await leg.deliverer.deliver(own);
    metrics.events.inc({ sink: leg.label }, own.events.length);
    return outcome;
  } finally {
    leg.pending--;
    metrics.pending.set({ sink: leg.label }, leg.pending);
  }
}

/** This sink's view of the batch: its own stages run on each event (a dropped event is not sent to it). */
function legBatch(leg: Leg, batch: Batch): Batch {
  if (leg.stages.length === 0 && !leg.convert) return batch;
  let events: ShipEvent[] = batch.events;
  if (leg.stages.length > 0) {
    const ctx = { inputKey: batch.inputKey, stream: batch.range.stream, offset: batch.range.start, tags: batch.tags };
    events = [];
    for (const e of batch.events) {
      const r = runProcessors(leg.stages, e, ctx);
      if (r === null) continue;
      if (Array.isArray(r)) events.push(...r);
      else events.push(r);
    }
  }
  if (leg.convert) {
    const choice = leg.convert;
    events = events.map((e) => ({ raw: renderEvent(choice, e, batch.tags), isObject: true, time: e.time, timeNs: e.timeNs, ...(e.markers ? { markers: e.markers } : {}) }));
  }
  if (events === batch.events) return batch;
  return { ...batch, events, rawBytes: events.reduce((s, e) => s + Buffer.byteLength(e.raw), 0) };
}
