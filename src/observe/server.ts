import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import { parseHostPort } from '../net/host-port.js';

export interface ObserveServer {
  /** The port actually bound (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * `HOST:PORT` (IPv6 as `[::1]:2020`) → its parts; throws an Error saying the expected form. `[::]:PORT` and
 * `:PORT` mean every address, IPv6 and IPv4 (dual-stack; IPv4 only where the node has no IPv6).
 */
export function parseListen(listen: string): { host: string; port: number } {
  const hp = parseHostPort(listen);
  if ('error' in hp) throw new Error(`invalid --listen "${listen}": use HOST:PORT (e.g. 127.0.0.1:2020, 0.0.0.0:2020, [::]:2020, :2020) or off`);
  return { host: hp.host || '::', port: hp.port }; // an empty host is every address, dual-stack
}

/** Errors of an IPv6 listen on a node without IPv6 (kernel built or booted without it, or disabled). */
const NO_IPV6 = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL', 'EPROTONOSUPPORT']);

/**
 * Listen on host:port; `::` is dual-stack (ipv6Only off: IPv4 clients arrive as ::ffff:a.b.c.d) and falls
 * back to 0.0.0.0 where IPv6 is not available. Resolves with the host actually bound.
 */
export async function listenDualStack(server: Server, port: number, host: string, logger?: Logger): Promise<string> {
  try {
    await listenOnce(server, port, host);
    return host;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (host !== '::' || !NO_IPV6.has(code)) throw e;
    logger?.info({ err: code }, 'IPv6 is not available on this node: the health and metrics server listens on IPv4 only (0.0.0.0)');
    await listenOnce(server, port, '0.0.0.0');
    return '0.0.0.0';
  }
}

function listenOnce(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(err);
    server.once('error', onError);
    server.listen({ port, host, ipv6Only: false }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * The health and metrics server of SPEC §5: `GET /healthz` 200 while the process works, `GET /readyz` 200 once
 * `isReady()` (503 before), `GET /metrics` Prometheus text rendered from the registry on each scrape.
 */
export async function startServer(opts: {
  listen: string;
  metrics: Metrics;
  isReady: () => boolean;
  /** Why /readyz is 503: the body while not ready, or a problem while running (an input down, SPEC §7). */
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
        const why = opts.notReadyReason?.();
        if (opts.isReady() && !why) return reply(res, 200, 'ready\n');
        return reply(res, 503, why ? (why.endsWith('\n') ? why : `not ready: ${why}\n`) : 'not ready: inputs are being set up\n');
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

  let boundHost: string;
  try {
    boundHost = await listenDualStack(server, port, host, opts.logger);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(`cannot listen on ${opts.listen}: ${err.code ?? err.message}${err.code === 'EADDRINUSE' ? ' (the port is taken: choose another --listen or off)' : ''}`);
  }
  server.on('error', (err) => opts.logger.error({ err: err.message }, 'metrics server error'));
  const bound = (server.address() as AddressInfo).port;
  opts.logger.info({ listen: `${boundHost.includes(':') ? `[${boundHost}]` : boundHost}:${bound}` }, 'health and metrics server listening');

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
