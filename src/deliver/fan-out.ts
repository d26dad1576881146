import { Counter, Gauge } from 'prom-client';
import type { Batch } from '../batch/batch.js';
import { ErrorCodes, TailshipError } from '../errors.js';
import type { ShipEvent } from '../parse/ship-event.js';
import { runProcessors, type EventProcessor } from '../process/stage.js';
import { renderEvent, takeSchemaParams, type SchemaChoice } from '../schema/index.js';
import { createSink, type CreateSinkContext } from './create-sink.js';
import type { DeadLetterSpool } from './dead-letter.js';
import { createDeliverer, type Deliverer, type DelivererOptions, type DeliveryOutcome } from './deliverer.js';
import { shippedCounter, type Settled } from './fan-out-shipped.js';
import type { Sink } from './sink.js';

/** `?policy=FILE` and `?redact=LIST` of one sink URI (SPEC §10): that sink's own stages, after the global ones. */
export interface SinkStageSpec {
  policy?: string;
  redact?: string;
}
/** Builds a sink's stages (policy, redaction: EventProcessors written elsewhere). Throws for an invalid spec. */
export type MakeSinkStages = (spec: SinkStageSpec, sinkLabel: string) => EventProcessor[];

/** Until the real factory is wired: a sink that asks for stages is a config error, never silently unfiltered. */
export const stagesNotAvailable: MakeSinkStages = (spec, label) => {
  if (spec.policy === undefined && spec.redact === undefined) return [];
  throw new TailshipError(
    ErrorCodes.SINK_STAGES_UNAVAILABLE,
    `sink ${label}: ?policy= / ?redact= per sink is not available in this build; remove them from the sink URI and use --audit-policy / --redact for every sink`,
    'remove ?policy= / ?redact= from the sink URI and use --audit-policy / --redact for every sink',
  );
};

/** Sinks that read `?schema=` themselves (they shape whole requests); for the others the fan-out converts events. */
const SCHEMA_AWARE = /^(https?|elasticsearch\+https?|opensearch\+https?|loki\+https?|otlp\+https?):\/\//i;

export interface FanOutOptions {
  /** Every `--sink` URI, in order. */
  uris: readonly string[];
  ctx: CreateSinkContext;
  deadLetter: DeadLetterSpool;
  makeStages?: MakeSinkStages;
  /** Test seam; default createSink. */
  createSinkFn?: (uri: string, ctx: CreateSinkContext) => Sink;
  /** Passed to each sink's deliverer (tests: sleep, random, backoff). */
  deliverer?: Partial<Omit<DelivererOptions, 'sink' | 'deadLetter' | 'metrics' | 'logger'>>;
  /** Clock for the status; default Date.now. */
  now?: () => number;
  /** How often a line with every sink's state is logged while one is behind. Default 30 s; 0 = never. */
  statusLogEveryMs?: number;
}

/** What `/readyz`, the progress line and the metrics say about one sink. */
export interface SinkStatus {
  /** The metrics label: `?name=`, else the sink's name (`http`, `elasticsearch`…), `-2`, `-3` for repeats. */
  sink: string;
  /** Batches given to this sink and not settled by it yet. */
  pendingBatches: number;
  /** Since when its sends fail (ms epoch), undefined while it answers. */
  failingSince?: number;
  /** The last failure's message (no secrets: sinks never put them in messages). */
  lastError?: string;
}

/** A Deliverer over several sinks: a batch settles when every sink settled it (delivered or dead-lettered). */
export interface FanOut extends Deliverer {
  readonly labels: readonly string[];
  status(): SinkStatus[];
  /** A reason when some sink has been failing for longer than `ms` (for `/readyz`), else undefined. */
  unhealthy(ms: number): string | undefined;
  /** Closes every sink (after close()). */
  closeSinks(): Promise<void>;
}

interface Leg {
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

/**
 * One read, every sink (SPEC §10): each sink gets its own deliverer (own retries, back-off, dead letter, blocked
 * gate), and the batch is acknowledged to the agent only once every sink settled it, so the committed offset waits
 * for the slowest sink. A sink that is down keeps its batches unsettled; they hold the in-flight budget, which
 * pauses reading: memory stays bounded and nothing is lost for the sink that is up either.
 */
export function createFanOut(opts: FanOutOptions): FanOut {
  const { ctx, deadLetter } = opts;
  const now = opts.now ?? Date.now;
  const makeStages = opts.makeStages ?? stagesNotAvailable;
  const make = opts.createSinkFn ?? createSink;
  if (opts.uris.length === 0) throw new TailshipError(ErrorCodes.SINK_URI_INVALID, 'no sink given', 'give --sink URI at least once');

  const metrics = sinkMetrics(ctx);
  const shipped = shippedCounter<Leg>();
  const seen = new Map<string, number>();
  const legs: Leg[] = [];
  try {
    for (const uri of opts.uris) legs.push(makeLeg(uri));
  } catch (e) {
    for (const leg of legs) void leg.sink.close().catch(() => undefined);
    throw e;
  }

  function makeLeg(uri: string): Leg {
    const { rest, spec, name } = takeFanOutParams(uri);
    let convert: SchemaChoice | undefined;
    let sinkUri = rest;
    if (!SCHEMA_AWARE.test(rest) && /[?&](schema|bodies)=/.test(rest)) {
      const u = new URL(rest.startsWith('file:') || rest.startsWith('stdout:') ? rest.replace(/^(file|stdout):/, 'x-$1://h/') : rest);
      convert = takeSchemaParams(u);
      sinkUri = rest.split('?')[0]! + (u.search ? u.search : '');
      if (convert.schema === 'raw') convert = undefined;
    }
    const sink = make(sinkUri, ctx);
    const base = name ?? sink.name;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    const label = n === 1 ? base : `${base}-${n}`;
    const leg: Leg = { label, sink, deliverer: undefined as unknown as Deliverer, stages: makeStages(spec, label), convert, pending: 0 };
    const observed: Sink = {
      name: label,
      async send(batch, signal) {
        try {
          await sink.send(batch, signal);
          if (leg.failingSince !== undefined) ctx.logger.info({ sink: label }, `sink ${label} answers again`);
          leg.failingSince = undefined;
          leg.lastError = undefined;
          metrics.up.set({ sink: label }, 1);
        } catch (e) {
          // Elasticsearch answered, only some items are to be sent again: the store is up
          if ((e as { code?: string }).code === ErrorCodes.SINK_ES_ITEMS_RETRY) throw e;
          leg.failingSince ??= now();
          leg.lastError = e instanceof Error ? e.message : String(e);
          // too-large is split and rejected is dead-lettered by the deliverer: the sink itself is up
          const kind = (e as { kind?: string }).kind;
          if (kind === 'retryable' || kind === 'blocked' || kind === undefined) metrics.up.set({ sink: label }, 0);
          throw e;
        }
      },
      close: () => sink.close(),
    };
    // With several sinks the fan-out counts tailship_events_shipped_total (once per event); one sink counts its own.
    const onShipped = opts.uris.length > 1 ? (part: Batch) => shipped.acked(leg, part) : undefined;
    leg.deliverer = createDeliverer({ ...opts.deliverer, sink: observed, deadLetter, metrics: ctx.metrics, logger: ctx.logger.child({ sink: label }), ...(onShipped ? { onShipped } : {}) });
    metrics.up.set({ sink: label }, 1);
    metrics.pending.set({ sink: label }, 0);
    return leg;
  }

  async function deliverLeg(leg: Leg, batch: Batch, settled?: Settled<Leg>): Promise<DeliveryOutcome> {
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

  let statusTimer: NodeJS.Timeout | undefined;
  const every = opts.statusLogEveryMs ?? 30_000;
  if (every > 0 && legs.length > 1) {
    statusTimer = setInterval(() => {
      const behind = legs.filter((l) => l.pending > 0 || l.failingSince !== undefined);
      if (behind.length > 0) ctx.logger.info({ sinks: status() }, `sinks behind: ${behind.map((l) => l.label).join(', ')} (reading waits for every sink)`);
    }, every);
    statusTimer.unref();
  }

  function status(): SinkStatus[] {
    return legs.map((l) => ({ sink: l.label, pendingBatches: l.pending, failingSince: l.failingSince, lastError: l.lastError }));
  }

  return {
    labels: legs.map((l) => l.label),
    async deliver(batch: Batch): Promise<DeliveryOutcome> {
      if (legs.length === 1) return deliverLeg(legs[0]!, batch);
      const settled = shipped.open(batch);
      try {
        const outcomes = await Promise.all(legs.map((leg) => deliverLeg(leg, batch, settled)));
        const n = settled.count();
        if (n > 0) ctx.metrics.eventsShipped.inc({ logstore: batch.logstore }, n);
        return outcomes.includes('dead-lettered') ? 'dead-lettered' : 'delivered';
      } finally {
        shipped.close(batch);
      }
    },
    inFlight: () => Math.max(0, ...legs.map((l) => l.deliverer.inFlight())),
    close(): void {
      if (statusTimer) clearInterval(statusTimer);
      statusTimer = undefined;
      for (const leg of legs) leg.deliverer.close();
    },
    status,
    unhealthy(ms: number): string | undefined {
      const t = now();
      const bad = legs.filter((l) => l.failingSince !== undefined && t - l.failingSince > ms);
      if (bad.length === 0) return undefined;
      return bad.map((l) => `sink ${l.label} failing for ${Math.round((t - l.failingSince!) / 1000)} s: ${l.lastError ?? ''}`).join('; ');
    },
    async closeSinks(): Promise<void> {
      await Promise.all(legs.map((l) => l.sink.close().catch(() => undefined)));
    },
  };
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

/**
 * Takes the fan-out's own parameters out of a sink URI: `?policy=`, `?redact=` (the sink's stages) and `?name=`
 * (its metrics label). The rest of the URI is the sink's.
 */
export function takeFanOutParams(uri: string): { rest: string; spec: SinkStageSpec; name?: string } {
  const q = uri.indexOf('?');
  if (q < 0) return { rest: uri, spec: {} };
  const spec: SinkStageSpec = {};
  let name: string | undefined;
  const keep: string[] = [];
  for (const pair of uri.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=');
    const key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, ' '));
    if (key === 'policy') spec.policy = value;
    else if (key === 'redact') spec.redact = value;
    else if (key === 'name') {
      if (!/^[a-zA-Z0-9_.-]{1,64}$/.test(value)) {
        throw new TailshipError(ErrorCodes.SINK_URI_INVALID, `sink ?name=${value} is not a valid label: use letters, digits, ".", "_" or "-" (at most 64)`, 'use letters, digits, ".", "_" or "-" (at most 64)');
      }
      name = value;
    } else if (pair !== '') keep.push(pair);
  }
  return { rest: uri.slice(0, q) + (keep.length > 0 ? `?${keep.join('&')}` : ''), spec, name };
}

/** Per-sink metrics, registered once per registry (tests create several fan-outs on one). */
function sinkMetrics(ctx: CreateSinkContext) {
  const registry = ctx.metrics.registry;
  const get = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  const registers = [registry];
  return {
    pending: get('tailship_sink_pending_batches', () => new Gauge({ name: 'tailship_sink_pending_batches', help: 'Batches given to the sink and not yet acknowledged or dead-lettered by it.', labelNames: ['sink'], registers })) as Gauge<'sink'>,
    up: get('tailship_sink_up', () => new Gauge({ name: 'tailship_sink_up', help: '1 while the sink acknowledges batches, 0 while its sends fail (it holds reading once the in-flight budget is used).', labelNames: ['sink'], registers })) as Gauge<'sink'>,
    events: get('tailship_sink_events_total', () => new Counter({ name: 'tailship_sink_events_total', help: 'Events settled (acknowledged or dead-lettered) per sink, after that sink\'s own stages.', labelNames: ['sink'], registers })) as Counter<'sink'>,
  };
}
