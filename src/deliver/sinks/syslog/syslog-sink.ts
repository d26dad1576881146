import net from 'node:net';
import tls from 'node:tls';
import type { Batch } from '../../../batch/batch.js';
import { ErrorCodes } from '../../../errors.js';
import type { Logger } from '../../../observe/log.js';
import { SinkError, type Sink } from '../../sink.js';
import { batchChunks, type FormatOptions } from './format.js';
import { parseSyslogUri, type SyslogConfig } from './options.js';

export interface SyslogSinkContext {
  logger: Logger;
}

const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_UNTRUSTED', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** How long a TLS 1.3 connection without a session ticket gets to be refused before it is used. */
const TLS13_ACCEPT_GRACE_MS = 250;

function isTlsFailure(code: string | undefined): boolean {
  return code !== undefined && (TLS_TRUST_CODES.has(code) || code.startsWith('ERR_SSL_') || code === 'ERR_TLS_HANDSHAKE_TIMEOUT');
}

/** One open connection and what happened to it. */
interface Conn {
  socket: net.Socket;
  /** Set once the socket errored or closed: the next send opens a new connection. */
  dead?: Error;
  /** Called when the socket dies while a send waits on it. */
  onDead?: (err: Error) => void;
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
      if (closed) throw new SinkError('retryable', `${cfg.display}: the sink is closed`, { code: ErrorCodes.SINK_SYSLOG_CLOSED });
      signal?.throwIfAborted();
      if (batch.events.length === 0) return;
      if (!conn || conn.dead) conn = await connect(cfg, signal);
      await writeBatch(conn, batch, signal);
    } finally {
      release();
    }
  }

  async function writeBatch(c: Conn, batch: Batch, signal?: AbortSignal): Promise<void> {
    const where = `${cfg.display} (batch ${batch.id})`;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const stop = new Promise<never>((_, reject) => {
      c.onDead = (err) => reject(writeError(where, err));
      timer = setTimeout(() => {
        const err = new SinkError('retryable', `${where}: the receiver took no data for ${cfg.timeoutMs} ms (?timeout=); reconnecting`, { code: ErrorCodes.SINK_SYSLOG_WRITE });
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
      // end() flushes what is queued, then FIN; give it a moment, then cut.
      await new Promise<void>((resolve) => {
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
    },
  };
}

function kill(c: Conn, err: Error): void {
  if (!c.dead) c.dead = err;
  c.socket.destroy();
}

function writeError(where: string, err: unknown): SinkError {
  if (err instanceof SinkError) return err;
  const e = err as NodeJS.ErrnoException;
  return new SinkError('retryable', `${where}: the connection failed before the whole batch was written (${e?.code ?? e?.message ?? String(err)}); the batch is sent again on a new connection`, {
    code: ErrorCodes.SINK_SYSLOG_WRITE,
    cause: err,
  });
}

/** Opens the connection (TLS handshake included) within the timeout; the error says what to fix. */
function connect(cfg: SyslogConfig, signal?: AbortSignal): Promise<Conn> {
  return new Promise<Conn>((resolve, reject) => {
    const where = `${cfg.display}: connect`;
    const socket: net.Socket = cfg.tls
      ? tls.connect({
          host: cfg.host,
          port: cfg.port,
          ...(cfg.servername ? { servername: cfg.servername } : {}),
          rejectUnauthorized: !cfg.insecure,
          ...(cfg.ca ? { ca: cfg.ca } : {}),
          ...(cfg.cert ? { cert: cfg.cert, key: cfg.key } : {}),
        })
      : net.connect({ host: cfg.host, port: cfg.port });
    const ready = cfg.tls ? 'secureConnect' : 'connect';
    const conn: Conn = { socket };
    let settled = false;
    let handshaken = false;
    const fail = (err: SinkError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new SinkError('retryable', `${where}: no connection within ${cfg.timeoutMs} ms (?timeout=)`, { code: ErrorCodes.SINK_SYSLOG_CONNECT })),
      cfg.timeoutMs,
    );
    const onAbort = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 30_000);
      resolve(conn);
    };
    socket.once(ready, () => {
      // TLS 1.3: the client's handshake ends before the server has checked our certificate (or that it wants
      // one); a refusal comes as an alert just after. Writing at once would hand the first batch to a connection
      // about to be reset, and acknowledge it. Wait for the server's session ticket (sent once it accepted us) or,
      // from a server that sends none, a short grace.
      handshaken = true;
      if (cfg.tls && (socket as tls.TLSSocket).getProtocol?.() === 'TLSv1.3') {
        const grace = setTimeout(done, TLS13_ACCEPT_GRACE_MS);
        socket.once('session', () => {
          clearTimeout(grace);
          done();
        });
        socket.once('close', () => clearTimeout(grace));
        return;
      }
      done();
    });
    // Syslog receivers send nothing; read and drop whatever comes so that it never fills a buffer.
    socket.on('data', () => undefined);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!settled) {
        const code = err.code;
        if (cfg.tls && (isTlsFailure(code) || handshaken)) {
          fail(new SinkError('blocked', `${where}: TLS failed (${code}); fix: give the receiver's CA with ?ca=FILE (and ?cert=/?key= if it asks for a client certificate), or fix its certificate`, { code: ErrorCodes.SINK_SYSLOG_TLS, cause: err }));
        } else {
          fail(new SinkError('retryable', `${where}: ${code ?? ''} ${err.message}`.trim(), { code: ErrorCodes.SINK_SYSLOG_CONNECT, cause: err }));
        }
        return;
      }
      markDead(conn, err);
    });
    socket.on('close', () => {
      if (!settled && handshaken) {
        // Closed right after a completed TLS handshake: the receiver refused our certificate, or wants one.
        fail(new SinkError('blocked', `${where}: the receiver closed the TLS connection right after the handshake; fix: it likely requires a client certificate it trusts (?cert=FILE&key=FILE), or does not permit this one`, { code: ErrorCodes.SINK_SYSLOG_TLS }));
      } else if (!settled) {
        fail(new SinkError('retryable', `${where}: the receiver closed the connection during the handshake`, { code: ErrorCodes.SINK_SYSLOG_CONNECT }));
      } else {
        markDead(conn, Object.assign(new Error('the receiver closed the connection'), { code: 'ECONNCLOSED' }));
      }
    });
    // A receiver that closes its side (FIN) takes nothing more from us.
    socket.on('end', () => markDead(conn, Object.assign(new Error('the receiver closed the connection'), { code: 'ECONNCLOSED' })));
  });
}

function markDead(c: Conn, err: Error): void {
  if (c.dead) return;
  c.dead = err;
  c.socket.destroy();
  c.onDead?.(err);
}
