// The webhook receiver as the agent starts it: spool (with recovery) and dedupe window at once, synchronously, so
// that the tailer never reads a half-written group; then the HTTP(S) listener.
import path from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../observe/log.js';
import { committedFromCheckpoints } from './committed.js';
import { DedupeWindow } from './dedupe.js';
import { startServer, type RunningServer } from './server.js';
import { Spool, type SpoolProgress } from './spool.js';
import type { WebhookConfig } from './config.js';

/**
 * Request bodies held at once (declared Content-Length, as read): one body of the 32 MiB maximum, or many of the
 * API server's usual ones (400 events); more is answered 429 at once rather than held.
 */
const MEMORY_BUDGET = 40 << 20;

export interface WebhookReceiver {
  /** The active spool file: the `__path__` of the webhook input. */
  spoolPath: string;
  /** Resolves with the bound port once listening; rejects when it cannot listen (EADDRINUSE…). */
  listening: Promise<number>;
  close(): Promise<void>;
}

export interface ReceiverDeps {
  logger: Logger;
  /** How far each spool file is acknowledged (default: the checkpoint file on disk). */
  committed?: () => SpoolProgress[];
  /** Where the webhook metrics are registered. */
  registry?: Registry;
}

export function spoolDir(stateDir: string): string {
  return path.join(path.resolve(stateDir), 'webhook');
}

export function startWebhookReceiver(cfg: WebhookConfig, deps: ReceiverDeps): WebhookReceiver {
  const dir = spoolDir(cfg.stateDir);
  const committed = deps.committed ?? committedFromCheckpoints(cfg.stateDir, dir);
  const dedupe = new DedupeWindow({ file: path.join(dir, 'dedupe.keys') });
  const spool = new Spool({
    dir,
    rotateBytes: Math.max(1 << 20, Math.floor(cfg.maxUnackedBytes / 4)),
    maxUnackedBytes: cfg.maxUnackedBytes,
    committed,
    dedupe,
    logger: deps.logger,
  });
  const registers = deps.registry ? [deps.registry] : [];
  const requests = new Counter({ name: 'tailship_webhook_requests_total', help: 'Webhook requests answered, by HTTP status.', labelNames: ['code'], registers });
  const events = new Counter({ name: 'tailship_webhook_events_total', help: 'Webhook events received: spooled, or duplicate (already spooled).', labelNames: ['result'], registers });
  new Gauge({ name: 'tailship_webhook_spool_unacked_bytes', help: 'Bytes in the webhook spool not acknowledged by the store yet.', registers, collect() { this.set(spool.unackedBytes()); } });
  const cleanup = setInterval(() => spool.cleanup(), 1000);
  cleanup.unref();
  let server: RunningServer | undefined;
  const listening = startServer(
    { host: cfg.host, port: cfg.port, tls: cfg.tls, timeoutMs: cfg.timeoutMs, memoryBudgetBytes: MEMORY_BUDGET, retryAfterSeconds: 5 },
    {
      spool,
      dedupe,
      logger: deps.logger,
      onAnswer: (status) => requests.inc({ code: String(status) }),
      onAccepted: (n, dup) => {
        events.inc({ result: 'spooled' }, n);
        if (dup > 0) events.inc({ result: 'duplicate' }, dup);
      },
    },
  ).then((s) => {
    server = s;
    deps.logger.info({ listen: `${cfg.host}:${s.port}`, tls: cfg.tls !== undefined, clientCa: cfg.tls?.clientCa !== undefined, spool: spool.activePath }, 'webhook receiver listening');
    return s.port;
  });
  listening.catch(() => undefined);
  return {
    spoolPath: spool.activePath,
    listening,
    async close() {
      clearInterval(cleanup);
      await server?.close();
      await spool.close();
    },
  };
}
