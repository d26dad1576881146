import type { Logger } from '../observe/log.js';
import type { Checkpointer } from './checkpointer.js';
import type { LoopParts, RunLoop, Waker } from './loop.js';

export interface SessionParts extends LoopParts {
  loop: RunLoop;
  checkpointer: Checkpointer;
  /** Aborts deliveries still running (their batches are not acknowledged: re-read after a restart). */
  stopDelivering(): void;
  /** Closes the rest (directory watch, tailer, sink, dead-letter spool, server), in order, errors ignored. */
  closers: Array<() => Promise<unknown> | void>;
  shutdownGraceMs: number;
  waker: Waker;
  logger: Logger;
  /** The first plan is persisted: the agent is ready (readiness probe). */
  onReady(): void;
  /** Inputs outside the tailer that must be up before the first read (the webhook receiver's listener). */
  beforeStart?: () => Promise<unknown>;
  /** Stop taking new data from outside (the webhook answers no more 200s) before the drain. */
  beforeShutdown?: () => Promise<void>;
}

/** What the agent handle flips: a graceful stop, then a hard one. */
export interface StopState {
  stopping: boolean;
  hardStop: boolean;
}

/** Start (first discovery, plan persisted), steps until stopped or idle, then the graceful shutdown. */
export async function runSession(p: SessionParts, stop: StopState): Promise<number> {
  await p.beforeStart?.();
  await p.tailer.discover();
  p.watch(p.tailer.watchDirs());
  // Persist the plan at once: once tailship has seen an input, a crash never makes the next start a "first
  // start" that would skip the backups rotated meanwhile as pre-existing history.
  await p.checkpointer.save();
  p.checkpointer.begin();
  p.onReady();
  p.loop.discovered(p.clock.now());
  while (!stop.stopping) {
    const r = await p.loop.step(p.clock.now());
    if (r.idle) {
      p.logger.info('every input is read to its end and acknowledged (--exit-when-idle)');
      break;
    }
    if (r.sleepMs > 0) await p.waker.sleep(r.sleepMs);
  }
  return shutdown(p, stop);
}

/** Stop reading, send what is batched, wait for acknowledgements within the grace period, then commit. */
async function shutdown(p: SessionParts, stop: StopState): Promise<number> {
  await p.beforeShutdown?.().catch(() => undefined);
  p.batcher.sealAll();
  p.checkpointer.cancelScheduled();
  await p.checkpointer.save();
  const deadline = p.clock.now() + p.shutdownGraceMs;
  while (p.pendingBatches() > 0 && p.clock.now() < deadline && !stop.hardStop) await p.waker.sleep(Math.min(100, deadline - p.clock.now()));
  if (p.pendingBatches() > 0) {
    p.logger.warn({ pending: p.pendingBatches() }, 'shutdown grace period over: unacknowledged batches will be read again after restart');
  }
  p.stopDelivering();
  p.checkpointer.stopTick();
  await p.checkpointer.save();
  for (const c of p.closers) await Promise.resolve(c()).catch(() => undefined);
  p.logger.info('tailship stopped');
  return 0;
}
