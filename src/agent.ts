import { hostname as osHostname } from 'node:os';
import { AckLedger } from './ack/ack-ledger.js';
import { auditStageMetrics } from './audit/metrics-registry.js';
import { CheckpointWriter, loadCheckpoints } from './checkpoint/checkpoint-store.js';
import type { AgentOptions, InputSpec } from './config/types.js';
import { createDeadLetterSpool } from './deliver/dead-letter.js';
import { createFanOut } from './deliver/fan-out.js'; // fan-out wiring
import { DirWatch } from './discover/dir-watch.js';
import type { Logger } from './observe/log.js';
import { createMetrics, type Metrics } from './observe/metrics.js';
import { ProgressReporter } from './observe/progress.js';
import { createAckPath } from './run/ack-path.js';
import { Checkpointer } from './run/checkpointer.js';
import { systemClock, type Clock } from './run/clock.js';
import { RunLoop, Waker } from './run/loop.js';
import { watchConfig } from './run/config-watch.js';
import { reloader } from './run/reload.js';
import { runSession, type StopState } from './run/session.js';
import { Budget, checkpointLog, initInputSeries, lineHandler, startHealth, tailSignals, updateGauges } from './run/wiring.js';
import { Tailer, type FileProgress } from './tail/tailer.js';
import { sinkStageFactory } from './process/sink-stages.js';
import { webhookConfig } from './inputs/webhook/config.js';
import { startWebhookReceiver } from './inputs/webhook/receiver.js';
import { sinkUnhealthyMs } from './deliver/sink-readiness.js';

export type { FileProgress };

export interface AgentHandle {
  /** Resolves with the exit code once the agent has stopped. */
  done: Promise<number>;
  /**
   * First call: graceful stop (drain within the grace period), returns 'graceful'. Second call: what is
   * acknowledged is persisted synchronously and it returns 'exit-now': the caller (cli.ts) exits the process.
   */
  stop(): 'graceful' | 'exit-now';
  metrics: Metrics;
  /** Re-resolves the configuration (SIGHUP; the config sources are also watched): SPEC §11. */
  reload(reason: string): Promise<void>;
  /** Read-only: how far each known file is shipped (committed offset and size last seen). */
  fileProgress(): FileProgress[];
}

/**
 * The composition root of `tailship run`: wiring only (docs/design.md walks one cycle).
 * tailer (lines at offsets) → parse/line-event → batcher → checkpointer (seal persisted) → deliverer → sink
 *                                        ack ← ledger ← settle ←┘   → checkpointer saves commits
 */
export function startAgent(opts: AgentOptions, inputs: InputSpec[], env: NodeJS.ProcessEnv, logger: Logger, clock: Clock = systemClock): AgentHandle {
  const metrics = createMetrics({ defaultMetrics: true });
  initInputSeries(metrics, inputs);
  const source = env.NODE_NAME || osHostname();
  const loaded = loadCheckpoints(opts.stateDir);
  if (loaded.warning) logger.warn(loaded.warning);
  const store = new CheckpointWriter(opts.stateDir);
  const deadLetter = createDeadLetterSpool(opts.stateDir, { logger, metrics });
  // fan-out wiring: every --sink gets every batch; a batch settles when all of them settled it (SPEC §10)
  const deliverer = createFanOut({ uris: opts.sinks ?? [opts.sink], ctx: { logger, metrics, env, stateDir: opts.stateDir, deadLetter }, deadLetter, makeStages: sinkStageFactory(opts, metrics) });
  const unhealthyMs = sinkUnhealthyMs(env);
  for (const label of deliverer.labels) metrics.initSink(label);
  auditStageMetrics(metrics.registry); // the audit series exist on /metrics before the first line
  let tailerRef: Tailer | undefined;
  const webhook = startWebhookInput(opts, logger, metrics, () => tailerRef?.fileProgress() ?? []);
  const ledger = new AckLedger();
  const budget = new Budget(opts.maxInflightBytes);
  const waker = new Waker(clock);
  const stop: StopState = { stopping: false, hardStop: false };
  let ready = false;

  // The ack path: the deliverer settles a batch → the ledger commits offsets → the checkpointer saves them.
  const ack = createAckPath(opts, { ledger, budget, deliverer, wake: () => waker.wake(), persistThenSend: (b) => checkpointer.sealed(b) });
  const { batcher } = ack;
  const tailer = new Tailer({
    ...{ inputs, records: loaded.streams, startAt: opts.startAt, backfill: opts.backfill, maxLineBytes: opts.maxLineBytes },
    signals: tailSignals(logger, metrics),
    now: () => clock.now(),
    hooks: {
      onLine: lineHandler(opts, { metrics, logger, env, source, batcher, budget }),
      onStreamOpen: (stream, offset, sealed) => (ledger.open(stream.id, offset, stream.lastEventMs), batcher.setCuts(stream.id, sealed)),
      onStreamEnd: (stream) => batcher.sealStream(stream.id),
      canRead: () => !budget.full && !stop.stopping,
    },
    acks: ack.acks,
  });
  tailerRef = tailer;
  const checkpointer = new Checkpointer({
    store,
    snapshot: () => ack.snapshot(tailer.snapshot()),
    version: () => ledger.version,
    send: ack.send,
    clock,
    onWriteState: checkpointLog(logger, opts.stateDir),
    onTick: () => updateGauges(metrics, { dirty: checkpointer.dirty, budget, lanes: tailer.lanes, committed: (id) => ledger.position(id)?.committed, now: clock.now(), health: tailer.health.all() }),
  });

  const progress = new ProgressReporter(logger, metrics, () => tailer.lanes.length, { pending: () => ledger.pending, paused: () => budget.full });
  const parts = {
    tailer,
    watch: (dirs: string[]) => dirWatch.update(dirs),
    batcher,
    checkpointer,
    pendingBatches: () => ledger.pending,
    overBudget: () => budget.full,
    progress: (caughtUp: boolean) => progress.tick(caughtUp),
    exitWhenIdle: opts.exitWhenIdle,
    idle: (backedOff: boolean) => dirWatch.arm(backedOff),
    clock,
  };
  const loop = new RunLoop(parts);
  // Directory events only wake the poll loop sooner: a name changed, look at the directory now.
  const dirWatch = new DirWatch(() => (loop.hint(), waker.wake()));
  const reload = reloader(opts, env, logger, (next) => (initInputSeries(metrics, next), tailer.setInputs(next), loop.hint(), waker.wake()));
  const configWatch = watchConfig(configSources(opts), (f) => void reload(`changed: ${f}`), (e) => logger.warn({ err: e.message }, 'cannot watch the config sources: SIGHUP still reloads'));
  const server = startHealth(opts.listen, { metrics, logger, isReady: () => ready, notReadyReason: () => notReady(checkpointer, tailer, clock.now(), opts) ?? deliverer.unhealthy(unhealthyMs) });
  // /readyz is 503 also while a sink has failed for longer than TAILSHIP_SINK_UNHEALTHY_MS (60 s), naming it
  const closers = [() => configWatch.close(), () => dirWatch.close(), () => tailer.close(), () => deliverer.closeSinks() /* fan-out wiring */, () => deadLetter.close(), async () => (await server)?.close()];
  const onReady = (): void => {
    ready = true;
    logger.info({ inputs: inputs.map((i) => ({ key: i.key, path: i.hostPath, logstore: i.logstore })), sink: deliverer.labels.join(',') /* fan-out wiring */ }, 'tailship started');
  };
  const session = { ...parts, loop, closers, onReady, waker, logger, stopDelivering: () => deliverer.close(), shutdownGraceMs: opts.shutdownGrace, beforeStart: webhook && (() => webhook.listening), beforeShutdown: webhook && (() => webhook.close()) };
  const done = runSession(session, stop).catch((e: Error) => {
    logger.fatal({ err: e.message, stack: e.stack }, 'fatal error');
    return 1;
  });

  return { done, metrics, reload, fileProgress: () => tailer.fileProgress(), stop: () => stopOnce(stop, checkpointer, waker) };
}

/** Why /readyz is 503 while running: the checkpoint cannot be written (shipping paused), or an input is down. */
function notReady(checkpointer: Checkpointer, tailer: Tailer, now: number, opts: AgentOptions): string | undefined {
  if (checkpointer.failing) return `cannot write the checkpoint file in ${opts.stateDir}: shipping is paused until it can`;
  return tailer.health.notReady(now, opts.inputDownGrace);
}

function configSources(opts: AgentOptions): string[] {
  return [...opts.envFiles, ...(opts.manifests !== undefined ? [opts.manifests] : [])];
}

/** First call: graceful. Second: persist what is acknowledged synchronously; the caller (cli.ts) leaves now. */
function stopOnce(stop: StopState, checkpointer: Checkpointer, waker: Waker): 'graceful' | 'exit-now' {
  if (stop.stopping) {
    stop.hardStop = true;
    checkpointer.saveSync();
    return 'exit-now';
  }
  stop.stopping = true;
  waker.wake();
  return 'graceful';
}

/**
 * The webhook receiver when --webhook-listen asks for it. Its spool is recovered (synchronously) before the tailer
 * reads it; acknowledged spool files are deleted from what the tailer reports as committed.
 */
function startWebhookInput(opts: AgentOptions, logger: Logger, metrics: Metrics, committed: () => FileProgress[]) {
  const cfg = webhookConfig(opts);
  return cfg ? startWebhookReceiver(cfg, { logger, registry: metrics.registry, committed }) : undefined;
}
