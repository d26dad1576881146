// The receiver: POST an EventList → validated whole → new events spooled durably → 200. Every other answer keeps
// nothing: 400 (not an EventList), 413 (too large), 415 (encoding), 429 (spool full or too many bodies in
// memory), 503 (the spool cannot be written). Answers are small JSON bodies with a stable code.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../../observe/log.js';
import { readBody } from './body.js';
import type { DedupeWindow } from './dedupe.js';
import { keyHash } from './dedupe.js';
import { parseEventList } from './eventlist.js';
import type { Spool } from './spool.js';
import { loadTls, TLS_OPTIONS, watchTls, type TlsFiles } from './tls.js';

export const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** How often Node checks the header and request timeouts (its default, 30 s, would let a slow client stay long). */
const CHECK_MS = 500;
/** After a refused body: what is discarded at most before the socket is destroyed. */
const LINGER_MS = 1000;
const LINGER_BYTES = 4 << 20;

export interface ServerOptions {
  host: string;
  port: number;
  tls?: TlsFiles;
  /** Headers and body must have arrived within this long (slow clients are cut, others are served). */
  timeoutMs: number;
  /** Bodies held in memory at once, at most (more: 429 at once). */
  memoryBudgetBytes: number;
  retryAfterSeconds: number;
  tlsPollMs?: number;
}

export interface ServerDeps {
  spool: Spool;
  dedupe: DedupeWindow;
  logger: Logger;
  onAccepted?: (events: number, duplicates: number) => void;
  onAnswer?: (status: number) => void;
}

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

export function startServer(o: ServerOptions, d: ServerDeps): Promise<RunningServer> {
  let inMemory = 0;
  const answer = (res: ServerResponse, status: number, body: object, close: boolean, headers: Record<string, string> = {}): void => {
    d.onAnswer?.(status);
    send(res, status, body, close, headers);
  };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    void handle(req, res).catch((e: Error) => {
      d.logger.error({ err: e.message }, 'webhook request failed');
      if (!res.headersSent) answer(res, 500, { code: 'TAILSHIP_E_WEBHOOK_INTERNAL', reason: 'internal error' }, true);
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST') return answer(res, 405, { code: 'TAILSHIP_E_WEBHOOK_METHOD', reason: 'POST an audit.k8s.io EventList' }, false, { allow: 'POST' });
    const declared = Number(req.headers['content-length']) || 0;
    if (declared <= MAX_BODY_BYTES && (d.spool.full(declared) || inMemory + declared > o.memoryBudgetBytes)) return busy(res, d.spool.full(declared));
    let reserved = Math.max(declared, 0);
    inMemory += reserved;
    // A body without Content-Length (chunked) is counted as it arrives.
    const more = (n: number): boolean => {
      if (inMemory + n > o.memoryBudgetBytes) return false;
      inMemory += n;
      reserved += n;
      return true;
    };
    try {
      const r = await readBody(req, MAX_BODY_BYTES, more);
      if (!('body' in r)) return answer(res, r.status, { code: r.code, reason: r.reason }, true, r.status === 429 ? { 'retry-after': String(o.retryAfterSeconds) } : {});
      const parsed = parseEventList(r.body);
      if ('error' in parsed) {
        d.logger.warn({ code: parsed.error, reason: parsed.reason, remote: req.socket.remoteAddress }, 'webhook body rejected (400): nothing of it was kept');
        return answer(res, 400, { code: parsed.error, reason: parsed.reason }, false);
      }
      // Dedupe: keys reserved now (a concurrent retry of the same list sees them), released if the write fails.
      const lines: Buffer[] = [];
      const fresh: string[] = [];
      const seen = new Set<string>();
      let bytes = 0;
      for (const it of parsed.items) {
        const h = keyHash(it.key);
        if (seen.has(h) || d.dedupe.has(h)) continue;
        seen.add(h);
        fresh.push(h);
        lines.push(it.line);
        bytes += it.line.length + 1;
      }
      const duplicates = parsed.items.length - lines.length;
      if (lines.length > 0 && d.spool.full(bytes)) return busy(res, true);
      d.dedupe.add(fresh);
      try {
        if (lines.length > 0) await d.spool.append(lines, fresh);
      } catch {
        d.dedupe.remove(fresh);
        return answer(res, 503, { code: 'TAILSHIP_E_WEBHOOK_SPOOL_WRITE', reason: 'the spool cannot be written; retry later' }, false, { 'retry-after': String(o.retryAfterSeconds) });
      }
      d.onAccepted?.(lines.length, duplicates);
      answer(res, 200, { accepted: lines.length, duplicates }, false);
    } finally {
      inMemory -= reserved;
    }
  };

  const busy = (res: ServerResponse, spoolFull: boolean): void =>
    answer(
      res,
      429,
      spoolFull
        ? { code: 'TAILSHIP_E_WEBHOOK_SPOOL_FULL', reason: 'the spool is full (the store is behind); the API server keeps the events and retries' }
        : { code: 'TAILSHIP_E_WEBHOOK_BUSY', reason: 'too many request bodies in memory; retry' },
      true,
      { 'retry-after': String(o.retryAfterSeconds) },
    );

  let server: Server | HttpsServer;
  let stopWatch: (() => void) | undefined;
  if (o.tls) {
    const ctx = loadTls(o.tls);
    server = createHttpsServer({ ...ctx, ...TLS_OPTIONS, connectionsCheckingInterval: CHECK_MS, requestCert: o.tls.clientCa !== undefined, rejectUnauthorized: o.tls.clientCa !== undefined }, handler);
    const https = server as HttpsServer;
    stopWatch = watchTls(o.tls, (next) => https.setSecureContext({ ...next, ...TLS_OPTIONS }), d.logger, o.tlsPollMs);
    let lastTlsLog = 0;
    https.on('tlsClientError', (e, socket) => {
      const now = Date.now();
      if (now - lastTlsLog > 10_000) {
        lastTlsLog = now;
        d.logger.warn({ err: e.message, remote: socket.remoteAddress }, 'webhook TLS handshake refused (a client without a certificate signed by --webhook-client-ca?)');
      }
    });
  } else {
    server = createHttpServer({ connectionsCheckingInterval: CHECK_MS }, handler);
  }
  server.headersTimeout = o.timeoutMs;
  server.requestTimeout = o.timeoutMs;
  server.keepAliveTimeout = 5000;
  server.maxConnections = 1024;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((r) => {
            stopWatch?.();
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}

/** Answers with a small JSON body; `close` ends the connection (the rest of a refused body is never read). */
function send(res: ServerResponse, status: number, body: object, close: boolean, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(close ? { connection: 'close' } : {}), ...headers });
  const socket = res.socket;
  res.end(text, () => {
    if (close && socket) linger(socket);
  });
}

/**
 * Closing a socket with unread request bytes makes the kernel send a reset, which can make the client lose the
 * answer it has not read yet. So: half-close, discard what still arrives for a moment (bounded in bytes and
 * time, nothing is kept), then destroy.
 */
function linger(socket: Socket): void {
  let discarded = 0;
  const done = (): void => {
    clearTimeout(timer);
    socket.destroy();
  };
  const timer = setTimeout(done, LINGER_MS);
  timer.unref();
  socket.removeAllListeners('data');
  socket.on('data', (d: Buffer) => {
    discarded += d.length;
    if (discarded > LINGER_BYTES) done();
  });
  socket.on('error', done);
  socket.end();
  socket.resume();
}
