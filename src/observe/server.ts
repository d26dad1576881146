import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';

export interface ObserveServer {
  /** The port actually bound (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

/** `HOST:PORT` (IPv6 as `[::1]:2020`) → its parts; throws an Error saying the expected form. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`invalid --listen "${listen}": use HOST:PORT (e.g. 127.0.0.1:2020, 0.0.0.0:2020, [::1]:2020) or off`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/**
 * The health and metrics server of SPEC §5: `GET /healthz` 200 while the process works, `GET /readyz` 200 once
 * `isReady()` (503 before), `GET /metrics` Prometheus text rendered from the registry on each scrape.
 */
export async function startServer(opts: {
  listen: string;
  metrics: Metrics;
  isReady: () => boolean;
  /** While ready otherwise: why not (an input down for too long, SPEC §7), said in the 503's body. */
  notReadyReason?: () => string | undefined;
  logger: Logger;
}): Promise<ObserveServer> {
  const { host, port } = parseListen(opts.listen);
  const { registry } = opts.metrics;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
    switch (path) {
      case '/healthz':
        return reply(res, 200, 'ok');
      case '/readyz':
      {
        if (!opts.isReady()) return reply(res, 503, 'not ready: inputs are being set up\n');
        const why = opts.notReadyReason?.();
        return why ? reply(res, 503, `not ready: ${why}\n`) : reply(res, 200, 'ready\n');
      }
      case '/metrics':
        return reply(res, 200, await registry.metrics(), { 'content-type': registry.contentType });
      default:
        return reply(res, 404, 'not found: try /healthz, /readyz or /metrics\n');
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      opts.logger.error({ err: err instanceof Error ? err.message : String(err), url: req.url }, 'metrics server: request failed');
      if (!res.headersSent) reply(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  // Scrapers keep connections alive; close() must not wait for them.
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(new Error(`cannot listen on ${opts.listen}: ${err.code ?? err.message}${err.code === 'EADDRINUSE' ? ' (the port is taken: choose another --listen or off)' : ''}`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => opts.logger.error({ err: err.message }, 'metrics server error'));
  const bound = (server.address() as AddressInfo).port;
  opts.logger.info({ listen: `${host}:${bound}` }, 'health and metrics server listening');

  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function reply(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
