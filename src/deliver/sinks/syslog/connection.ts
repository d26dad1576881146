import net from 'node:net';
import tls from 'node:tls';
import { ErrorCodes } from '../../../errors.js';
import { SinkError } from '../../sink.js';
import { isTlsTrustError } from '../../tls-trust.js';
import type { SyslogConfig } from './options.js';

/** How long a TLS 1.3 connection without a session ticket gets to be refused before it is used. */
const TLS13_ACCEPT_GRACE_MS = 250;

function isTlsFailure(code: string | undefined): boolean {
  return code !== undefined && (isTlsTrustError(code) || code.startsWith('ERR_SSL_') || code === 'ERR_TLS_HANDSHAKE_TIMEOUT');
}

/** One open connection and what happened to it. */
export interface Conn {
  socket: net.Socket;
  /** Set once the socket errored or closed: the next send opens a new connection. */
  dead?: Error;
  /** Called when the socket dies while a send waits on it. */
  onDead?: (err: Error) => void;
}

export function kill(c: Conn, err: Error): void {
  if (!c.dead) c.dead = err;
  c.socket.destroy();
}

/** Opens the connection (TLS handshake included) within the timeout; the error says what to fix. */
export function connect(cfg: SyslogConfig, signal?: AbortSignal): Promise<Conn> {
  return new Promise<Conn>((resolve, reject) => {
    const where = `${cfg.display}: connect`;
    const socket = openSocket(cfg);
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
      () => fail(new SinkError('retryable', ErrorCodes.SINK_SYSLOG_CONNECT, `${where}: no connection within ${cfg.timeoutMs} ms (?timeout=)`)),
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
      if (!settled) fail(connectError(cfg, where, err, handshaken));
      else markDead(conn, err);
    });
    socket.on('close', () => {
      if (!settled) fail(closedError(where, handshaken));
      else markDead(conn, Object.assign(new Error('the receiver closed the connection'), { code: 'ECONNCLOSED' }));
    });
    // A receiver that closes its side (FIN) takes nothing more from us.
    socket.on('end', () => markDead(conn, Object.assign(new Error('the receiver closed the connection'), { code: 'ECONNCLOSED' })));
  });
}

function openSocket(cfg: SyslogConfig): net.Socket {
  if (!cfg.tls) return net.connect({ host: cfg.host, port: cfg.port });
  return tls.connect({
    host: cfg.host,
    port: cfg.port,
    ...(cfg.servername ? { servername: cfg.servername } : {}),
    rejectUnauthorized: !cfg.insecure,
    ...(cfg.ca ? { ca: cfg.ca } : {}),
    ...(cfg.cert ? { cert: cfg.cert, key: cfg.key } : {}),
  });
}

/** An error before the connection was usable: a TLS refusal is blocked (it needs a fix), the rest retryable. */
function connectError(cfg: SyslogConfig, where: string, err: NodeJS.ErrnoException, handshaken: boolean): SinkError {
  const code = err.code;
  if (cfg.tls && (isTlsFailure(code) || handshaken)) {
    return new SinkError('blocked', ErrorCodes.SINK_SYSLOG_TLS, `${where}: TLS failed (${code}); fix: give the receiver's CA with ?ca=FILE (and ?cert=/?key= if it asks for a client certificate), or fix its certificate`, { cause: err });
  }
  return new SinkError('retryable', ErrorCodes.SINK_SYSLOG_CONNECT, `${where}: ${code ?? ''} ${err.message}`.trim(), { cause: err });
}

function closedError(where: string, handshaken: boolean): SinkError {
  if (handshaken) {
    // Closed right after a completed TLS handshake: the receiver refused our certificate, or wants one.
    return new SinkError('blocked', ErrorCodes.SINK_SYSLOG_TLS, `${where}: the receiver closed the TLS connection right after the handshake; fix: it likely requires a client certificate it trusts (?cert=FILE&key=FILE), or does not permit this one`);
  }
  return new SinkError('retryable', ErrorCodes.SINK_SYSLOG_CONNECT, `${where}: the receiver closed the connection during the handshake`);
}

function markDead(c: Conn, err: Error): void {
  if (c.dead) return;
  c.dead = err;
  c.socket.destroy();
  c.onDead?.(err);
}
