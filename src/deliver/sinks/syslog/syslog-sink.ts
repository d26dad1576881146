import type { Batch } from '../../../batch/batch.js';
import { ErrorCodes } from '../../../errors.js';
import type { Logger } from '../../../observe/log.js';
import { closedError, SinkError, type Sink } from '../../sink.js';
import { batchChunks, type FormatOptions } from './format.js';
import { parseSyslogUri, type SyslogConfig } from './options.js';
import { connect, kill, type Conn } from './connection.js';

export interface SyslogSinkContext {
  logger: Logger;
}

/**
 * `syslog+tcp://HOST:PORT`, `syslog+tls://HOST:PORT` (SPEC §10): RFC 5424 messages, octet-counted (RFC 6587) on
 * one persistent connection, opened on the first send and again on the next send after it failed (the
 * deliverer's back-off paces the reconnects). Sends take turns on the connection, so a batch's messages are
 * written in order and a connection failure is pinned to the batch that was on it.
 *
 * Acknowledgement, honestly: TCP syslog has no application-level answer. `send` resolves once every message of
 * the batch was handed to the kernel (the last write's callback), after waiting on 'drain' whenever the socket's
 * buffer was full (backpressure). At-least-once holds up to the kernel's send buffer: messages in it when the
 * receiver crashes or the connection is reset are lost without anyone knowing. A connection that fails or closes
 * before the last write completed fails the whole batch as retryable (its earlier messages arrive twice).
 */
export function createSyslogSink(uri: string, ctx: SyslogSinkContext): Sink {
  const cfg = parseSyslogUri(uri);
  if (cfg.insecure) {
    ctx.logger.warn({ sink: cfg.display }, 'syslog sink: TLS CERTIFICATE VERIFICATION IS OFF (?insecure=true); use ?ca=FILE for a private CA instead.');
  }
  const fmt: FormatOptions = { facility: cfg.facility, severity: cfg.severity, bom: cfg.bom };
  let conn: Conn | undefined;
  let turn: Promise<void> = Promise.resolve();
  let closed = false;

  async function send(batch: Batch, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    // Take a turn: one batch on the connection at a time.
    const previous = turn;
    let release!: () => void;
    turn = new Promise<void>((r) => (release = r));
    try {
      await previous;
      if (closed) throw closedError('syslog');
      signal?.throwIfAborted();
      if (batch.events.length === 0) return;
      if (!conn || conn.dead) conn = await connect(cfg, signal);
      await writeBatch(conn, batch, cfg, fmt, signal);
    } finally {
      release();
    }
  }

  return {
    name: 'syslog',
    send,
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await turn.catch(() => undefined);
      const c = conn;
      conn = undefined;
      if (!c || c.dead) return;
      await endGracefully(c);
    },
  };
}

/** Writes the batch's frames in order, waiting on 'drain' under backpressure; resolves once the last write is done. */
async function writeBatch(c: Conn, batch: Batch, cfg: SyslogConfig, fmt: FormatOptions, signal?: AbortSignal): Promise<void> {
  const where = `${cfg.display} (batch ${batch.id})`;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    c.onDead = (err) => reject(writeError(where, err));
    timer = setTimeout(() => {
      const err = new SinkError('retryable', ErrorCodes.SINK_SYSLOG_WRITE, `${where}: the receiver took no data for ${cfg.timeoutMs} ms (?timeout=); reconnecting`);
      kill(c, err);
      reject(err);
    }, cfg.timeoutMs);
    if (signal) {
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  stop.catch(() => undefined);
  try {
    let last: Promise<void> = Promise.resolve();
    for (const chunk of batchChunks(batch, fmt)) {
      if (c.dead) throw writeError(where, c.dead);
      signal?.throwIfAborted();
      last = new Promise<void>((resolve, reject) => {
        c.socket.write(chunk, (err) => (err ? reject(writeError(where, err)) : resolve()));
      });
      last.catch(() => undefined);
      if (c.socket.writableNeedDrain) {
        await Promise.race([new Promise<void>((r) => c.socket.once('drain', r)), stop]);
        timer?.refresh(); // the receiver is reading: the timeout counts from its last progress
      }
    }
    await Promise.race([last, stop]);
  } catch (err) {
    if (signal?.aborted && err === signal.reason) throw err; // the connection stays usable: whole frames only
    if (!c.dead) kill(c, err as Error);
    throw err instanceof SinkError ? err : writeError(where, err);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    c.onDead = undefined;
  }
}

/** end() flushes what is queued, then FIN; give it a moment, then cut. */
function endGracefully(c: Conn): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      c.socket.destroy();
      resolve();
    }, 2000);
    c.socket.once('close', () => {
      clearTimeout(t);
      resolve();
    });
    c.socket.end();
  });
}

function writeError(where: string, err: unknown): SinkError {
  if (err instanceof SinkError) return err;
  const e = err as NodeJS.ErrnoException;
  return new SinkError('retryable', ErrorCodes.SINK_SYSLOG_WRITE, `${where}: the connection failed before the whole batch was written (${e?.code ?? e?.message ?? String(err)}); the batch is sent again on a new connection`, {
    cause: err,
  });
}
