import type { Batcher, LaneInfo } from '../batch/batcher.js';
import type { AgentOptions, InputSpec } from '../config/types.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import { lineToEvents, type LineSignals, type LineSource } from '../parse/line-event.js';
import type { RawLine } from '../parse/raw-line.js';
import { clusterIdOf } from '../audit/identity.js';
import { buildProcessors } from '../process/pipeline.js';
import type { EventProcessor } from '../process/stage.js';
import type { Lane } from '../tail/file-table.js';
import type { InputHealth } from '../tail/input-health.js';
import type { TailSignals } from '../tail/signals.js';
import type { StreamRecord } from '../identity/stream-record.js';
import { startServer } from '../observe/server.js';

/** tail/'s one signals interface onto the metrics and the log. */
export function tailSignals(logger: Logger, metrics: Metrics): TailSignals {
  return {
    bytesRead: () => undefined, // counted per input with each line (metrics.lineRead)
    bytesLost: (n) => metrics.bytesLost.inc(n),
    fileLost: (input) => metrics.filesLost.inc({ input }),
    debug: (f, m) => logger.debug(f, m),
    info: (f, m) => logger.info(f, m),
    warn: (f, m) => logger.warn(f, m),
    error: (f, m) => logger.error(f, m),
  };
}

/** Per-input series exist from the start (0), so that an alert on them works before the first event. */
export function initInputSeries(metrics: Metrics, inputs: InputSpec[]): void {
  for (const { key: input } of inputs) {
    metrics.initInput(input);
    metrics.filesLost.labels({ input }).inc(0);
    metrics.linesInvalidUtf8.labels({ input }).inc(0);
  }
}

/** In-flight budget: raw bytes read and not yet acknowledged. */
export class Budget {
  bytes = 0;
  readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  get full(): boolean {
    return this.bytes >= this.max;
  }
}

/**
 * The tailer's `onLine`: per lane, the batch target and the input's stages (built once), then the one
 * line→event step (parse/line-event.ts).
 */
export function lineHandler(
  opts: AgentOptions,
  deps: { metrics: Metrics; logger: Logger; env: NodeJS.ProcessEnv; source: string; batcher: Batcher; budget: Budget },
): (lane: Lane, stream: StreamRecord, line: RawLine) => void {
  const { metrics, logger, source, batcher, budget } = deps;
  // Keyed by the objects: a reload that changes an input makes new ones (and new lanes), never stale settings.
  const lanes = new WeakMap<Lane, LineSource>();
  const stageCache = new WeakMap<InputSpec, EventProcessor[]>();
  const stagesOf = (input: InputSpec): EventProcessor[] => {
    let stages = stageCache.get(input);
    if (!stages) stageCache.set(input, (stages = buildProcessors(input, opts, { metrics, logger, env: deps.env })));
    return stages;
  };
  const laneOf = (lane: Lane): LineSource => {
    let l = lanes.get(lane);
    if (!l) {
      const i = lane.input;
      const clusterId = clusterIdOf(i.key, deps.env); // SPEC §6 identity: ACK's audit-{cluster_id} or TAILSHIP_CLUSTER_ID
      const tags: Record<string, string> = { ...i.tags, __hostname__: source, __path__: lane.namedPath, ...(clusterId ? { __cluster_id__: clusterId } : {}) };
      const target = { inputKey: i.key, logstore: i.logstore, project: i.project, product: i.product, source, tags, shard: i.shard, ttl: i.ttl, logstoreMode: i.logstoreMode };
      const info: LaneInfo = { id: lane.id, target };
      l = { inputKey: i.key, json: i.json, stages: stagesOf(i), tags, add: (stream, start, end, event, bytes, now) => batcher.add(info, stream, start, end, event, bytes, now) };
      lanes.set(lane, l);
    }
    return l;
  };
  let file = '';
  let input = '';
  const signals: LineSignals = {
    invalid: () => metrics.linesInvalid.inc(),
    // Counted, not logged: a stream of bad bytes would flood the log; the tag says which logs.
    invalidUtf8: () => metrics.linesInvalidUtf8.inc({ input }),
    truncated: (line, bytes) => {
      metrics.linesTruncated.inc();
      logger.warn({ file, offset: line.start, bytes }, `line longer than --max-line-bytes (${opts.maxLineBytes}): shipped cut, tagged __truncated__=true`);
    },
  };
  return (lane, stream, line) => {
    budget.bytes += line.end - line.start;
    metrics.lineRead(lane.input.key, line.end - line.start);
    file = stream.file;
    input = lane.input.key;
    lineToEvents(laneOf(lane), stream.id, line, signals, Date.now);
  };
}

/** The 1 s gauges: unsaved progress (checkpoint age), in-flight bytes, read paused, per-file lag (what is read and not committed). */
export function updateGauges(
  metrics: Metrics,
  s: { dirty: boolean; budget: Budget; lanes: Lane[]; committed: (id: string) => number | undefined; now: number; health: InputHealth[] },
): void {
  for (const h of s.health) {
    metrics.inputUp.set({ input: h.input }, h.up ? 1 : 0);
    metrics.inputStale.set({ input: h.input }, Math.max(0, (s.now - h.grewAt) / 1000));
  }
  metrics.checkpointDirty(s.dirty, s.now);
  metrics.inflightBytes.set(s.budget.bytes);
  metrics.readPaused.set(s.budget.full ? 1 : 0);
  for (const lane of s.lanes) {
    let lag = 0;
    for (const q of lane.queue) lag += Math.max(0, q.rec.size - (s.committed(q.rec.id) ?? q.rec.offset));
    lag += lane.unreadSize ?? 0; // a file that cannot be opened: none of it is read
    metrics.fileLag.set({ path: lane.namedPath }, lag);
  }
}

/** The health/metrics server unless --listen off; a server that cannot start is logged, never fatal. */
export function startHealth(
  listen: string,
  deps: { metrics: Metrics; logger: Logger; isReady: () => boolean; notReadyReason?: () => string | undefined },
): Promise<{ close(): Promise<unknown> } | undefined> {
  if (listen === 'off') return Promise.resolve(undefined);
  return startServer({ listen, ...deps }).catch((e: Error) => {
    deps.logger.error({ listen, err: e.message }, 'cannot start the health/metrics server: choose another --listen address or "off"');
    return undefined;
  });
}

/** The checkpointer's write failures and recovery, for the operator. */
export function checkpointLog(logger: Logger, stateDir: string): (err: Error | undefined) => void {
  return (err) =>
    err
      ? logger.error({ err: err.message, stateDir }, 'cannot write the checkpoint file: shipping is paused until it can (retried every second); check that --state-dir is writable and has space')
      : logger.info({ stateDir }, 'checkpoint file written again: shipping resumes');
}
