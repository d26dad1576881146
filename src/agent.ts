import { hostname as osHostname } from 'node:os';
import { AckLedger } from './ack/ack-ledger.js';
import type { Batch } from './batch/batch.js';
import { Batcher, type LaneInfo } from './batch/batcher.js';
import { CheckpointWriter, loadCheckpoints, type StreamRecord } from './checkpoint/checkpoint-store.js';
import type { AgentOptions, InputSpec } from './config/types.js';
import { createSink } from './deliver/create-sink.js';
import { createDeadLetterSpool } from './deliver/dead-letter.js';
import { createDeliverer } from './deliver/deliverer.js';
import type { Logger } from './observe/log.js';
import { createMetrics, type Metrics } from './observe/metrics.js';
import { ProgressReporter } from './observe/progress.js';
import { startServer } from './observe/server.js';
import { parseLine } from './parse/parse-line.js';
import { DirWatch } from './discover/dir-watch.js';
import { buildProcessors } from './process/pipeline.js';
import { runProcessors, type EventProcessor } from './process/stage.js';
import { Tailer, type Lane } from './tail/tailer.js';
import { webhookConfig } from './inputs/webhook/config.js'; // webhook wiring
import { startWebhookReceiver } from './inputs/webhook/receiver.js'; // webhook wiring

const POLL_MS = 250;
/** Sealed batches wait this long at most for their range to be persisted before they are sent. */
const SEAL_PERSIST_MS = 25;
const CHECKPOINT_EVERY_MS = 1000;

export interface AgentHandle {
  /** Resolves with the exit code once the agent has stopped. */
  done: Promise<number>;
  /** First call: graceful stop (drain within the grace period). Second call: stop at once. */
  stop(): void;
  metrics: Metrics;
}

/**
 * The composition root of `tailship run`: the only place that knows every stage.
 * config → tailer (lines at offsets) → parse → batcher → [seal persisted] → deliverer → sink
 *                                                  ack ← ledger ← settle ←┘   → checkpoint
 */
export function startAgent(opts: AgentOptions, inputs: InputSpec[], env: NodeJS.ProcessEnv, logger: Logger): AgentHandle {
  const metrics = createMetrics({ defaultMetrics: true });
  const source = env.NODE_NAME || osHostname();
  const loaded = loadCheckpoints(opts.stateDir);
  if (loaded.warning) logger.warn(loaded.warning);
  const checkpoints = new CheckpointWriter(opts.stateDir);
  const sink = createSink(opts.sink, { logger, metrics, env, stateDir: opts.stateDir });
  const deadLetter = createDeadLetterSpool(opts.stateDir, { logger, metrics });
  const deliverer = createDeliverer({
    sink,
    deadLetter,
    metrics,
    logger,
  });
  const ledger = new AckLedger();
  // webhook wiring: spool recovered before the tailer reads it; committed() from the checkpoint file on disk
  // (the lead may pass `committed` from the ledger instead: tailer.snapshot() → {path: r.file, committed, size, ino})
  const webhookCfg = webhookConfig(opts);
  const webhook = webhookCfg ? startWebhookReceiver(webhookCfg, { logger, registry: metrics.registry }) : undefined;
  const laneInfos = new Map<string, LaneInfo>();
  let inflight = 0; // raw bytes read and not yet acknowledged
  let waitingForPersist: Batch[] = [];
  let stopping = false;
  let hardStop = false;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    wake?.();
  };

  const settle = (batch: Batch): void => {
    ledger.settle(batch.id);
    inflight -= batch.range.end - batch.range.start;
    poke();
  };

  const batcher = new Batcher(
    { maxEvents: opts.batchMaxEvents, maxBytes: opts.batchMaxBytes, maxWaitMs: opts.batchMaxWait },
    (batch) => {
      ledger.track(batch.id, batch.range.stream, batch.range.start, batch.range.end);
      if (batch.events.length === 0) settle(batch); // only empty lines: nothing to send
      else waitingForPersist.push(batch);
    },
  );

  const laneInfo = (lane: Lane): LaneInfo => {
    let info = laneInfos.get(lane.id);
    if (!info) {
      const i = lane.input;
      info = {
        id: lane.id,
        target: {
          inputKey: i.key,
          logstore: i.logstore,
          project: i.project,
          product: i.product,
          source,
          tags: { ...i.tags, __hostname__: source, __path__: lane.namedPath },
          shard: i.shard,
          ttl: i.ttl,
          logstoreMode: i.logstoreMode,
        },
      };
      laneInfos.set(lane.id, info);
    }
    return info;
  };

  const stageCache = new Map<string, EventProcessor[]>();
  const stagesOf = (input: InputSpec): EventProcessor[] => {
    let stages = stageCache.get(input.key);
    if (!stages) stageCache.set(input.key, (stages = buildProcessors(input, opts, { metrics, logger, env })));
    return stages;
  };

  const tailer = new Tailer({
    inputs,
    records: loaded.streams,
    startAt: opts.startAt,
    backfill: opts.backfill,
    maxLineBytes: opts.maxLineBytes,
    logger,
    metrics,
    hooks: {
      onLine(lane, stream, line) {
        const bytes = line.end - line.start;
        inflight += bytes;
        metrics.linesRead.inc();
        let event;
        if (line.text.length > 0 || line.truncated) {
          event = parseLine(line.text, line.truncated, lane.input.json, Date.now());
          if (event.markers?.__parse_error__) metrics.linesInvalid.inc();
          if (line.truncated) {
            metrics.linesTruncated.inc();
            logger.warn({ file: stream.file, offset: line.start, bytes }, `line longer than --max-line-bytes (${opts.maxLineBytes}): shipped cut, tagged __truncated__=true`);
          }
        }
        const info = laneInfo(lane);
        const stages = stagesOf(lane.input);
        const out = event && stages.length > 0 ? runProcessors(stages, event, { inputKey: lane.input.key, stream: stream.id, offset: line.start, tags: info.target.tags }) : event;
        if (Array.isArray(out)) {
          // A stage released several events for this line: the first carries its bytes, the rest none.
          const now = Date.now();
          if (out.length === 0) batcher.add(info, stream.id, line.start, line.end, undefined, bytes, now);
          out.forEach((e, i) => batcher.add(info, stream.id, i === 0 ? line.start : line.end, line.end, e, i === 0 ? bytes : 0, now));
        } else {
          batcher.add(info, stream.id, line.start, line.end, out ?? undefined, bytes, Date.now());
        }
      },
      onStreamOpen(stream, offset, sealed) {
        ledger.open(stream.id, offset);
        batcher.setCuts(stream.id, sealed);
      },
      onStreamEnd(stream) {
        batcher.sealStream(stream.id);
      },
      canRead: () => inflight < opts.maxInflightBytes && !stopping,
      committed: (id) => ledger.committed(id),
      settled: (id) => ledger.idle(id),
      onStreamForget: (id) => ledger.forget(id),
    },
  });

  const snapshot = (): StreamRecord[] =>
    tailer.snapshot().map((r) => (ledger.committed(r.id) === undefined ? r : { ...r, sealed: ledger.sealedEnds(r.id) }));

  // ---- checkpoints: periodic for commits, prompt (group commit) for seals ------------------------------------
  let savedVersion = -1;
  let saving: Promise<void> | undefined;
  /** Not ready while checkpoints cannot be written: progress would be lost on a restart. */
  let checkpointFailing = false;
  const save = async (): Promise<void> => {
    while (saving) await saving;
    const version = ledger.version;
    const batches = waitingForPersist;
    waitingForPersist = [];
    saving = checkpoints.save(snapshot()).then(
      () => {
        savedVersion = version;
        if (checkpointFailing) logger.info({ stateDir: opts.stateDir }, 'checkpoint file written again');
        checkpointFailing = false;
      },
      (e: Error) => {
        checkpointFailing = true;
        logger.error({ err: e.message, stateDir: opts.stateDir }, 'cannot write the checkpoint file: check that --state-dir is writable and has space');
      },
    );
    await saving;
    saving = undefined;
    for (const b of batches) send(b);
  };
  const send = (b: Batch): void => {
    deliverer.deliver(b).then(
      () => settle(b),
      () => undefined, // aborted at shutdown: not acknowledged, so not committed; re-read after restart
    );
  };

  let sealTimer: NodeJS.Timeout | undefined;
  const scheduleSealPersist = (): void => {
    if (sealTimer || waitingForPersist.length === 0) return;
    sealTimer = setTimeout(() => {
      sealTimer = undefined;
      void save();
    }, SEAL_PERSIST_MS);
  };
  const tick = setInterval(() => {
    // Never before the first discovery: an empty snapshot would overwrite the checkpoints being resumed.
    if (ready && ledger.version !== savedVersion && !saving) void save();
    metrics.checkpointAge.set(checkpoints.lastSavedAt ? (Date.now() - checkpoints.lastSavedAt) / 1000 : 0);
    metrics.inflightBytes.set(inflight);
    metrics.readPaused.set(inflight >= opts.maxInflightBytes ? 1 : 0);
    for (const lane of tailer.lanes) {
      let lag = 0;
      for (const s of lane.queue) lag += Math.max(0, s.rec.size - (ledger.committed(s.rec.id) ?? s.rec.offset));
      metrics.fileLag.set({ path: lane.namedPath }, lag);
    }
  }, CHECKPOINT_EVERY_MS);
  tick.unref();

  const progress = new ProgressReporter(logger, metrics, () => tailer.lanes);

  // ---- directory events only wake the poll loop sooner ---------------------------------------------------------
  let discoverNow = false;
  const dirWatch = new DirWatch(() => {
    discoverNow = true; // a name changed: look at the directory now, not at the next poll
    poke();
  });

  let ready = false;
  const server =
    opts.listen === 'off'
      ? Promise.resolve(undefined)
      : startServer({ listen: opts.listen, metrics, isReady: () => ready && !checkpointFailing, logger }).catch((e: Error) => {
          logger.error({ listen: opts.listen, err: e.message }, 'cannot start the health/metrics server: choose another --listen address or "off"');
          return undefined;
        });

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  const run = async (): Promise<number> => {
    if (webhook) await webhook.listening; // webhook wiring: cannot listen → fatal (exit 1)
    await tailer.discover();
    dirWatch.update(tailer.watchDirs());
    // Persist the plan at once: once tailship has seen an input, a crash never makes the next start a "first
    // start" that would skip the backups rotated meanwhile as pre-existing history.
    await save();
    ready = true;
    logger.info({ inputs: inputs.map((i) => ({ key: i.key, path: i.hostPath, logstore: i.logstore })), sink: sink.name }, 'tailship started');
    let lastDiscover = Date.now();
    while (!stopping) {
      const now = Date.now();
      if (discoverNow || now - lastDiscover >= POLL_MS) {
        discoverNow = false;
        await tailer.discover();
        dirWatch.update(tailer.watchDirs());
        lastDiscover = now;
      }
      const n = await tailer.read();
      const caughtUp = n === 0 && tailer.caughtUp();
      if (caughtUp && opts.exitWhenIdle) batcher.sealAll();
      const due = batcher.sealDue(Date.now());
      scheduleSealPersist();
      progress.tick(caughtUp);
      if (opts.exitWhenIdle && caughtUp && batcher.openCount === 0 && ledger.pendingBatches() === 0 && waitingForPersist.length === 0 && !saving) {
        logger.info('every input is read to its end and acknowledged (--exit-when-idle)');
        break;
      }
      if (n === 0 || inflight >= opts.maxInflightBytes) await sleep(Math.min(POLL_MS, due ?? POLL_MS));
    }
    return shutdown();
  };

  const shutdown = async (): Promise<number> => {
    // Stop reading, send what is batched, wait for acknowledgements within the grace period, then commit.
    await webhook?.close(); // webhook wiring: nothing new is accepted; what was answered 200 is in the spool
    batcher.sealAll();
    if (sealTimer) clearTimeout(sealTimer);
    await save();
    const deadline = Date.now() + opts.shutdownGrace;
    while (ledger.pendingBatches() > 0 && Date.now() < deadline && !hardStop) await sleep(Math.min(100, deadline - Date.now()));
    if (ledger.pendingBatches() > 0) {
      logger.warn({ pending: ledger.pendingBatches() }, 'shutdown grace period over: unacknowledged batches will be read again after restart');
    }
    deliverer.close();
    clearInterval(tick);
    await save();
    dirWatch.close();
    await tailer.close();
    await sink.close().catch(() => undefined);
    await deadLetter.close().catch(() => undefined);
    await (await server)?.close().catch(() => undefined);
    logger.info('tailship stopped');
    return 0;
  };

  const done = run().catch((e: Error) => {
    logger.fatal({ err: e.message, stack: e.stack }, 'fatal error');
    return 1;
  });

  return {
    done,
    metrics,
    stop() {
      if (stopping) {
        hardStop = true;
        // Second signal: persist what is acknowledged and leave now.
        checkpoints.saveSync(snapshot());
        process.exit(0);
      }
      stopping = true;
      poke();
    },
  };
}
