// The receiver's HTTP or HTTPS server: timeouts and connection limits, TLS reloaded when its files change.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../observe/log.js';
import { loadTls, TLS_OPTIONS, watchTls, type TlsFiles } from './tls.js';

/** How often Node checks the header and request timeouts (its default, 30 s, would let a slow client stay long). */
const CHECK_MS = 500;

export interface HttpServerOptions {
  host: string;
  port: number;
  tls?: TlsFiles;
  timeoutMs: number;
  tlsPollMs?: number;
}

export interface ListeningServer {
  port: number;
  close(): Promise<void>;
}

/** Listens with `handler`; resolves once listening, rejects when the address cannot be had. */
export function listenHttp(o: HttpServerOptions, logger: Logger, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<ListeningServer> {
  const { server, stopWatch } = o.tls ? httpsServer(o.tls, o.tlsPollMs, logger, handler) : { server: createHttpServer({ connectionsCheckingInterval: CHECK_MS }, handler), stopWatch: undefined };
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

function httpsServer(
  tls: TlsFiles,
  tlsPollMs: number | undefined,
  logger: Logger,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): { server: Server | HttpsServer; stopWatch: () => void } {
  const ctx = loadTls(tls);
  const https = createHttpsServer({ ...ctx, ...TLS_OPTIONS, connectionsCheckingInterval: CHECK_MS, requestCert: tls.clientCa !== undefined, rejectUnauthorized: tls.clientCa !== undefined }, handler);
  const stopWatch = watchTls(tls, (next) => https.setSecureContext({ ...next, ...TLS_OPTIONS }), logger, tlsPollMs);
  let lastTlsLog = 0;
  https.on('tlsClientError', (e, socket) => {
    const now = Date.now();
    if (now - lastTlsLog > 10_000) {
      lastTlsLog = now;
      logger.warn({ err: e.message, remote: socket.remoteAddress }, 'webhook TLS handshake refused (a client without a certificate signed by --webhook-client-ca?)');
    }
  });
  return { server: https, stopWatch };
}
