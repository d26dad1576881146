import type { Batch } from '../batch/batch.js';
import { ErrorCodes, TailshipError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import { createSink, type CreateSinkContext } from './create-sink.js';
import type { DeadLetterSpool } from './dead-letter.js';
import type { Deliverer, DelivererOptions, DeliveryOutcome } from './deliverer.js';
import { deliverLeg, makeLeg, type Leg, type LegMaker } from './fan-out-leg.js';
import { stagesNotAvailable, type MakeSinkStages } from './fan-out-params.js';
import { shippedCounter } from './fan-out-shipped.js';
import type { Sink } from './sink.js';
import { sinkMetrics } from './sink-metrics.js';

export { stagesNotAvailable, takeFanOutParams, type MakeSinkStages, type SinkStageSpec } from './fan-out-params.js';

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

/**
 * One read, every sink (SPEC §10): each sink gets its own deliverer (own retries, back-off, dead letter, blocked
 * gate), and the batch is acknowledged to the agent only once every sink settled it, so the committed offset waits
 * for the slowest sink. A sink that is down keeps its batches unsettled; they hold the in-flight budget, which
 * pauses reading: memory stays bounded and nothing is lost for the sink that is up either.
 */
export function createFanOut(opts: FanOutOptions): FanOut {
  const { ctx } = opts;
  const now = opts.now ?? Date.now;
  if (opts.uris.length === 0) throw new TailshipError(ErrorCodes.SINK_URI_INVALID, 'no sink given', 'give --sink URI at least once');
  const metrics = sinkMetrics(ctx);
  const shipped = shippedCounter<Leg>();
  const legs = makeLegs(opts.uris, {
    ctx,
    deadLetter: opts.deadLetter,
    makeStages: opts.makeStages ?? stagesNotAvailable,
    make: opts.createSinkFn ?? createSink,
    metrics,
    now,
    deliverer: opts.deliverer,
    acked: opts.uris.length > 1 ? (leg, part) => shipped.acked(leg, part) : undefined,
    seen: new Map(),
  });
  const status = (): SinkStatus[] => legs.map((l) => ({ sink: l.label, pendingBatches: l.pending, failingSince: l.failingSince, lastError: l.lastError }));
  let statusTimer = startStatusLog(legs, opts.statusLogEveryMs ?? 30_000, ctx.logger, status);

  return {
    labels: legs.map((l) => l.label),
    async deliver(batch: Batch): Promise<DeliveryOutcome> {
      if (legs.length === 1) return deliverLeg(legs[0]!, batch, metrics);
      const settled = shipped.open(batch);
      try {
        const outcomes = await Promise.all(legs.map((leg) => deliverLeg(leg, batch, metrics, settled)));
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
    unhealthy: (ms: number) => unhealthyReason(legs, now(), ms),
    async closeSinks(): Promise<void> {
      await Promise.all(legs.map((l) => l.sink.close().catch(() => undefined)));
    },
  };
}

/** One leg per URI, in order; when one cannot be made, the sinks made so far are closed. */
function makeLegs(uris: readonly string[], maker: LegMaker): Leg[] {
  const legs: Leg[] = [];
  try {
    for (const uri of uris) legs.push(makeLeg(uri, maker));
  } catch (e) {
    for (const leg of legs) void leg.sink.close().catch(() => undefined);
    throw e;
  }
  return legs;
}

/** With several sinks, every `every` ms while one is behind: a line with every sink's state. */
function startStatusLog(legs: readonly Leg[], every: number, logger: Logger, status: () => SinkStatus[]): NodeJS.Timeout | undefined {
  if (!(every > 0 && legs.length > 1)) return undefined;
  const timer = setInterval(() => {
    const behind = legs.filter((l) => l.pending > 0 || l.failingSince !== undefined);
    if (behind.length > 0) logger.info({ sinks: status() }, `sinks behind: ${behind.map((l) => l.label).join(', ')} (reading waits for every sink)`);
  }, every);
  timer.unref();
  return timer;
}

/** A reason when some sink has been failing for longer than `ms` at `t`, else undefined. */
function unhealthyReason(legs: readonly Leg[], t: number, ms: number): string | undefined {
  const bad = legs.filter((l) => l.failingSince !== undefined && t - l.failingSince > ms);
  if (bad.length === 0) return undefined;
  return bad.map((l) => `sink ${l.label} failing for ${Math.round((t - l.failingSince!) / 1000)} s: ${l.lastError ?? ''}`).join('; ');
}
