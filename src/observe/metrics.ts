import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every counter and gauge of SPEC §5 (and a few more), in one registry per agent so that tests can run
 * several agents in one process. Hot paths only increment numbers; text is rendered on scrape.
 */
export interface Metrics {
  registry: Registry;
  bytesRead: Counter;
  linesRead: Counter;
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
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  // eventLoopMonitoringPrecision: the default 10 ms sampling timer alone wakes an idle agent 100 times a second
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'tailship_', eventLoopMonitoringPrecision: 100 });
  const registers = [registry];
  return {
    registry,
    bytesRead: new Counter({ name: 'tailship_bytes_read_total', help: 'Bytes read from log files.', registers }),
    linesRead: new Counter({ name: 'tailship_lines_read_total', help: 'Lines read from log files.', registers }),
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
      help: 'Seconds since the checkpoint file was last written.',
      registers,
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
    // issue 10 (harden2): loss and liveness (SPEC §7), invalid UTF-8
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
  };
}
