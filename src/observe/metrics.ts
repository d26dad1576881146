import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { VERSION } from '../version.js';
import { tallyByLabel } from './counter-tally.js';

/**
 * Default-collector gauges named `_total` (prom-client's sums of the `{type}` series next to them): Prometheus
 * reserves `_total` for counters (`promtool check metrics` flags them), and the per-type series carry the same.
 */
const MISNAMED_DEFAULT_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * Every counter and gauge of SPEC §5 (and a few more), in one registry per agent so that tests can run
 * several agents in one process. Hot paths only increment numbers; text is rendered on scrape.
 */
export interface Metrics {
  registry: Registry;
  /** Per input (`aliyun_logs_{key}`): count through lineRead(), which keeps the two in step. */
  bytesRead: Counter<'input'>;
  linesRead: Counter<'input'>;
  linesInvalid: Counter;
  linesTruncated: Counter;
  eventsShipped: Counter<'logstore'>;
  batchesShipped: Counter<'sink'>;
  batchesFailed: Counter<'sink'>;
  batchesDeadLettered: Counter;
  batchRetries: Counter<'sink'>;
  fileLag: Gauge<'path'>;
  bytesLost: Counter;
  checkpointAge: Gauge;
  inflightBytes: Gauge;
  readPaused: Gauge;
  // issue 10 (harden2): loss and liveness (SPEC §7), invalid UTF-8
  linesInvalidUtf8: Counter<'input'>;
  filesLost: Counter<'input'>;
  inputUp: Gauge<'input'>;
  inputStale: Gauge<'input'>;
  buildInfo: Gauge<'version' | 'node'>;
  /** One line of an input was read: `bytes` raw bytes (its newline included). */
  lineRead(input: string, bytes: number): void;
  /** Series at 0 from the start for an input (lines, bytes), so that rate() and absent() work before traffic. */
  initInput(input: string): void;
  /** Series at 0 from the start for a sink (shipped, failed, retries): an alert on failures needs a series. */
  initSink(sink: string): void;
  /**
   * Whether progress exists that the checkpoint file does not hold yet; `tailship_checkpoint_age_seconds` is the
   * age of the oldest such change (0 when everything is saved), so it rises only while saving fails or lags.
   */
  checkpointDirty(dirty: boolean, now?: number): void;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics) {
    // eventLoopMonitoringPrecision: the default 10 ms sampling timer alone wakes an idle agent 100 times a second
    collectDefaultMetrics({ register: registry, prefix: 'tailship_', eventLoopMonitoringPrecision: 100 });
    for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(`tailship_${name}`);
  }
  const registers = [registry];
  let dirtySince: number | undefined;
  // Registered in this order, which is the order of the scrape.
  const m: Omit<Metrics, 'lineRead' | 'initInput' | 'initSink' | 'checkpointDirty'> = {
    registry,
    ...readMetrics(registers),
    ...deliveryMetrics(registers),
    ...backlogMetrics(registers, () => dirtySince),
    ...livenessMetrics(registers),
  };
  m.buildInfo.set({ version: VERSION, node: process.versions.node }, 1);
  // per line: plain additions, added to the counters when they are read
  const linesOf = tallyByLabel(m.linesRead, 'input');
  const bytesOf = tallyByLabel(m.bytesRead, 'input');
  return {
    ...m,
    lineRead(input, bytes) {
      linesOf(input).n++;
      bytesOf(input).n += bytes;
    },
    initInput(input) {
      m.linesRead.inc({ input }, 0);
      m.bytesRead.inc({ input }, 0);
    },
    initSink(sink) {
      for (const c of [m.batchesShipped, m.batchesFailed, m.batchRetries]) c.inc({ sink }, 0);
    },
    checkpointDirty(dirty, now = Date.now()) {
      if (!dirty) dirtySince = undefined;
      else dirtySince ??= now;
    },
  };
}

/** What was read: bytes and lines per input, and the lines that were not what they should be. */
function readMetrics(registers: Registry[]): Pick<Metrics, 'bytesRead' | 'linesRead' | 'linesInvalid' | 'linesTruncated'> {
  return {
    bytesRead: new Counter({ name: 'tailship_bytes_read_total', help: 'Bytes of lines read from log files, per input.', labelNames: ['input'], registers }),
    linesRead: new Counter({ name: 'tailship_lines_read_total', help: 'Lines read from log files, per input.', labelNames: ['input'], registers }),
    linesInvalid: new Counter({
      name: 'tailship_lines_invalid_total',
      help: 'Lines of JSON inputs that were not one JSON object (shipped as content with __parse_error__).',
      registers,
    }),
    linesTruncated: new Counter({
      name: 'tailship_lines_truncated_total',
      help: 'Lines longer than --max-line-bytes, shipped cut with __truncated__=true.',
      registers,
    }),
  };
}

/** What the stores did with the batches. */
function deliveryMetrics(registers: Registry[]): Pick<Metrics, 'eventsShipped' | 'batchesShipped' | 'batchesFailed' | 'batchesDeadLettered' | 'batchRetries'> {
  return {
    eventsShipped: new Counter({
      name: 'tailship_events_shipped_total',
      help: 'Events acknowledged by the store.',
      labelNames: ['logstore'],
      registers,
    }),
    batchesShipped: new Counter({
      name: 'tailship_batches_shipped_total',
      help: 'Batches acknowledged by the store.',
      labelNames: ['sink'],
      registers,
    }),
    batchesFailed: new Counter({
      name: 'tailship_batches_failed_total',
      help: 'Failed send attempts of a batch (each retry counts).',
      labelNames: ['sink'],
      registers,
    }),
    batchesDeadLettered: new Counter({
      name: 'tailship_batches_dead_lettered_total',
      help: 'Batches the store rejected permanently, written to the dead-letter spool in the state dir.',
      registers,
    }),
    batchRetries: new Counter({
      name: 'tailship_batch_retries_total',
      help: 'Retries scheduled after a retryable failure.',
      labelNames: ['sink'],
      registers,
    }),
  };
}

/** What is read but not acknowledged or saved yet, and what was lost before it could be read. */
function backlogMetrics(registers: Registry[], dirtySince: () => number | undefined): Pick<Metrics, 'fileLag' | 'bytesLost' | 'checkpointAge' | 'inflightBytes' | 'readPaused'> {
  return {
    fileLag: new Gauge({
      name: 'tailship_file_lag_bytes',
      help: 'Bytes of a file not yet acknowledged by the store.',
      labelNames: ['path'],
      registers,
    }),
    bytesLost: new Counter({
      name: 'tailship_bytes_lost_total',
      help: 'Bytes deleted (rotated away) before tailship could read them.',
      registers,
    }),
    checkpointAge: new Gauge({
      name: 'tailship_checkpoint_age_seconds',
      help: 'Age of the oldest progress not yet saved in the checkpoint file; 0 when everything is saved (alert when it stays high: saving fails).',
      registers,
      collect() {
        const since = dirtySince();
        this.set(since === undefined ? 0 : Math.max(0, (Date.now() - since) / 1000));
      },
    }),
    inflightBytes: new Gauge({
      name: 'tailship_inflight_bytes',
      help: 'Raw bytes read but not yet acknowledged (batched or being sent).',
      registers,
    }),
    readPaused: new Gauge({
      name: 'tailship_read_paused',
      help: '1 while reading is paused because the in-flight budget is used up.',
      registers,
    }),
  };
}

/** issue 10 (harden2): loss and liveness (SPEC §7), invalid UTF-8; and which build runs. */
function livenessMetrics(registers: Registry[]): Pick<Metrics, 'linesInvalidUtf8' | 'filesLost' | 'inputUp' | 'inputStale' | 'buildInfo'> {
  return {
    linesInvalidUtf8: new Counter({
      name: 'tailship_lines_invalid_utf8_total',
      help: 'Lines whose bytes were not valid UTF-8 (shipped with U+FFFD in their place, tagged __invalid_utf8__=true).',
      labelNames: ['input'],
      registers,
    }),
    filesLost: new Counter({
      name: 'tailship_files_lost_total',
      help: 'Checkpointed files that disappeared before they were read to their end (bytes known or not).',
      labelNames: ['input'],
      registers,
    }),
    inputUp: new Gauge({
      name: 'tailship_input_up',
      help: "1 while the input's file exists and is readable, else 0.",
      labelNames: ['input'],
      registers,
    }),
    inputStale: new Gauge({
      name: 'tailship_input_stale_seconds',
      help: "Seconds since the input's file last grew.",
      labelNames: ['input'],
      registers,
    }),
    buildInfo: new Gauge({
      name: 'tailship_build_info',
      help: 'Always 1; the labels say which tailship and which Node.js run.',
      labelNames: ['version', 'node'],
      registers,
    }),
  };
}
