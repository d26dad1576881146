// The http(s) sink: one POST per batch on a keep-alive pool; the URI, the body and the answer's meaning are read
// and built in http-sink-config.ts, http-batch-body.ts and http-errors.ts.
import type { Pool } from 'undici';
import type { Batch } from '../../batch/batch.js';
import { ErrorCodes } from '../../errors.js';
import type { Logger } from '../../observe/log.js';
import type { Metrics } from '../../observe/metrics.js';
import { USER_AGENT } from '../../version.js';
import { closePoolGracefully } from '../close-pool.js';
import { takeHttpRender } from '../render-http.js';
import { readPrefix } from '../response-text.js';
import { closedError, SinkError, type Sink } from '../sink.js';
import { requestBody } from './http-batch-body.js';
import { networkError, responseError } from './http-errors.js';
import { parseHttpSinkUrl, type HttpSinkConfig } from './http-sink-config.js';
import { lazyUndici, type LazyClient } from './lazy-undici.js';

/** Kept bytes of an error response (for the dead-letter spool and the log line). */
export const RESPONSE_BODY_LIMIT = 4096;
/** Connections to the store: matches the deliverer's default of 4 sends at a time. */
export const HTTP_CONNECTIONS = 4;

export interface HttpSinkContext {
  logger: Logger;
  metrics?: Metrics;
  env: Record<string, string | undefined>;
}

/** Where and how one sink posts: its configuration, rendering, pool and request path. */
interface PostTarget {
  cfg: HttpSinkConfig;
  render: ReturnType<typeof takeHttpRender>;
  pool: LazyClient<Pool>;
  path: string;
}

/**
 * `http://…` / `https://…` (SPEC §3): POSTs one batch per request as JSON (gzip by default) on a keep-alive
 * undici Pool of HTTP_CONNECTIONS connections, and maps the answer to an acknowledgement or a SinkError the
 * deliverer acts on. Never puts a header value in a log line or an error message.
 */
export function createHttpSink(url: URL, ctx: HttpSinkContext): Sink {
  const render = takeHttpRender(url); // ?format=eventlist / ?schema= (render-http.ts)
  const cfg = parseHttpSinkUrl(render ? render.url : url, ctx.env);
  if (cfg.insecure) {
    ctx.logger.warn(
      { sink: cfg.display },
      'http sink: TLS CERTIFICATE VERIFICATION IS OFF (?insecure=true): anyone on the network path can read and change the audit logs. Use ?ca=FILE for a private CA instead.',
    );
  }
  if (cfg.ca && cfg.url.protocol === 'http:') ctx.logger.warn({ sink: cfg.display }, 'http sink: ?ca= has no effect on a plain http:// URL');

  const pool = lazyUndici(({ Pool }) =>
    new Pool(cfg.url.origin, {
      connections: HTTP_CONNECTIONS,
      keepAliveTimeout: 30_000,
      headersTimeout: cfg.timeoutMs,
      bodyTimeout: cfg.timeoutMs,
      connect: { rejectUnauthorized: !cfg.insecure, ...(cfg.ca ? { ca: cfg.ca } : {}) },
    }),
  );
  const target: PostTarget = { cfg, render, pool, path: `${cfg.url.pathname}${cfg.url.search}` };
  let closing: Promise<void> | undefined;

  return {
    name: 'http',
    async send(batch: Batch, signal?: AbortSignal): Promise<void> {
      if (closing) throw closedError('http');
      await post(target, batch, signal);
    },
    close(): Promise<void> {
      // Once, whoever calls: a second close() waits for the first (the sink contract: close is idempotent).
      // Never sent: undici was never loaded, and there is nothing to close.
      closing ??= (async () => {
        const made = pool.made();
        if (made) await closePoolGracefully(await made);
      })();
      return closing;
    },
  };
}

/** POSTs one batch; resolves on a 2xx answer, else throws the SinkError the deliverer acts on. */
async function post({ cfg, render, pool, path }: PostTarget, batch: Batch, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  const body = await requestBody(batch, render, cfg.gzipLevel);
  const headers: Record<string, string> = {
    'user-agent': USER_AGENT, // a ?header.User-Agent= given by the user wins
    ...cfg.headers,
    'content-type': 'application/json',
    'idempotency-key': batch.id,
  };
  if (cfg.gzipLevel > 0) headers['content-encoding'] = 'gzip';

  // One deadline for connect + headers + body; undici's own timers are per phase and reset on activity.
  const deadline = AbortSignal.timeout(cfg.timeoutMs);
  const requestSignal = signal ? AbortSignal.any([signal, deadline]) : deadline;
  const where = `POST ${cfg.display} (batch ${batch.id})`;
  let status: number;
  let resHeaders: Record<string, string | string[] | undefined>;
  let text = '';
  try {
    const res = await (await pool.get()).request({ path, method: 'POST', headers, body, signal: requestSignal });
    status = res.statusCode;
    resHeaders = res.headers;
    if (status >= 200 && status < 300) {
      await res.body.dump().catch(() => undefined); // acknowledged whatever happens to the rest of the answer
      return;
    }
    text = await readPrefix(res.body, RESPONSE_BODY_LIMIT);
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    if (deadline.aborted) {
      throw new SinkError('retryable', ErrorCodes.SINK_TIMEOUT, `${where}: no complete answer within ${cfg.timeoutMs} ms (?timeout=)`, { cause: err });
    }
    throw networkError(where, err);
  }
  throw responseError(where, status, resHeaders, text);
}
