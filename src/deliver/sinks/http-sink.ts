import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Batch } from '../../batch/batch.js';
import type { Logger } from '../../observe/log.js';
import type { Metrics } from '../../observe/metrics.js';
import { BodyWriter, markersJson, renderLog, writeLog } from '../render.js';
import { ErrorCodes } from '../../errors.js';
import { parseRetryAfter } from '../retry-after.js';
import { closePoolGracefully } from '../close-pool.js';
import { oneLine, readPrefix } from '../response-text.js';
import { isTlsTrustError } from '../tls-trust.js';
import { closedError, SinkError, type Sink } from '../sink.js';
import { sinkOptionError, sinkUriError } from '../sink-config-error.js';
import { takeHttpRender } from '../render-http.js';
import { USER_AGENT } from '../../version.js';
import { lazyUndici } from './lazy-undici.js';

const gzipAsync = promisify(gzip);

/**
 * gzip level 3, chosen by measurement (scripts in the delivery report; 2-core Xeon, Node 20, zlib, bodies built
 * from the real audit events in shared/data/audit-logs, 256 KiB and 3 MiB bodies, same results for both):
 *   level 1: ~250-295 MB/s, ratio 7.7-7.9x
 *   level 3: ~245-280 MB/s, ratio 8.5-8.6x   <- as fast as 1, 10 % smaller
 *   level 6: ~115-120 MB/s, ratio 10.4-10.9x <- half the speed for 22 % fewer bytes
 * CPU on a control-plane node is what we must not take; `?gzip=6` (or any 1-9) trades it for bandwidth.
 * Compression runs in zlib's async API, i.e. on the libuv thread pool, not on the event loop.
 */
export const DEFAULT_GZIP_LEVEL = 3;
/**
 * Output piece of the async gzip: each piece is one round trip from the zlib thread to the event loop, so
 * zlib's 16 KiB default makes ~25 of them for a 3 MB batch; 256 KiB makes 1-2 (main-thread time 3x lower).
 */
const GZIP_CHUNK_BYTES = 256 * 1024;
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Kept bytes of an error response (for the dead-letter spool and the log line). */
export const RESPONSE_BODY_LIMIT = 4096;
/** Connections to the store: matches the deliverer's default of 4 sends at a time. */
export const HTTP_CONNECTIONS = 4;

export interface HttpSinkContext {
  logger: Logger;
  metrics?: Metrics;
  env: Record<string, string | undefined>;
}

/** What an http(s) sink URI asks for, with tailship's own query parameters taken out of the URL. */
export interface HttpSinkConfig {
  /** The URL actually requested: without `gzip`, `header.*`, `ca`, `insecure`, `timeout`, or user info. */
  url: URL;
  /** For messages: origin and path only (the query may carry a token of the store's own). */
  display: string;
  /** gzip level, or 0 for no compression. */
  gzipLevel: number;
  /** Extra headers (`?header.NAME=VALUE`, `Authorization`), lower-cased names. */
  headers: Record<string, string>;
  timeoutMs: number;
  ca?: Buffer;
  insecure: boolean;
}

/** Headers tailship sets itself; `?header.` may not replace them. */
const RESERVED_HEADERS = new Set(['content-type', 'content-encoding', 'content-length', 'transfer-encoding', 'idempotency-key', 'host', 'connection']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Reads an http(s) sink URI. Throws an Error that says what to fix (the CLI exits 2 with it). */
export function parseHttpSinkUrl(input: URL, env: Record<string, string | undefined>): HttpSinkConfig {
  const url = new URL(input.href);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw sinkUriError(`http sink: ${url.protocol} is not http: or https:`);
  const q = url.searchParams;
  const cfg: HttpSinkConfig = { url, display: '', gzipLevel: DEFAULT_GZIP_LEVEL, headers: {}, timeoutMs: DEFAULT_TIMEOUT_MS, insecure: false };

  const gz = q.get('gzip');
  if (gz !== null) {
    if (gz === 'false') cfg.gzipLevel = 0;
    else if (gz === 'true' || gz === '') cfg.gzipLevel = DEFAULT_GZIP_LEVEL;
    else if (/^[1-9]$/.test(gz)) cfg.gzipLevel = Number(gz);
    else throw sinkOptionError(`http sink: ?gzip=${gz} is not valid: use ?gzip=false, ?gzip=true or a level ?gzip=1 … ?gzip=9`);
  }
  const timeout = q.get('timeout');
  if (timeout !== null) {
    if (!/^\d+$/.test(timeout) || Number(timeout) < 1) throw sinkOptionError(`http sink: ?timeout=${timeout} is not valid: give milliseconds, e.g. ?timeout=30000`);
    cfg.timeoutMs = Number(timeout);
  }
  const insecure = q.get('insecure');
  if (insecure !== null) {
    if (insecure !== 'true' && insecure !== 'false') throw sinkOptionError(`http sink: ?insecure=${insecure} is not valid: use ?insecure=true or leave it out`);
    cfg.insecure = insecure === 'true';
  }
  const ca = q.get('ca');
  if (ca !== null) {
    try {
      cfg.ca = readFileSync(ca);
    } catch (err) {
      throw sinkOptionError(`http sink: cannot read the CA file ?ca=${ca}: ${(err as NodeJS.ErrnoException).code ?? String(err)}; give a PEM file readable by tailship`);
    }
  }
  for (const [key, value] of q) {
    if (!key.startsWith('header.')) continue;
    const name = key.slice('header.'.length).toLowerCase();
    if (!TOKEN.test(name)) throw sinkOptionError(`http sink: ?${key}= is not a valid header name`);
    if (RESERVED_HEADERS.has(name)) throw sinkOptionError(`http sink: ?${key}= cannot be set: tailship sets ${name} itself`);
    if (/[\r\n\0]/.test(value)) throw sinkOptionError(`http sink: the value of ?${key}= contains a line break`);
    cfg.headers[name] = value;
  }
  // Credentials in the URL become Basic auth; the env var wins. Either way they leave the URL we print.
  if (url.username || url.password) {
    const basic = Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64');
    cfg.headers.authorization = `Basic ${basic}`;
    url.username = '';
    url.password = '';
  }
  const auth = env.TAILSHIP_HTTP_AUTHORIZATION;
  if (auth) {
    if (/[\r\n\0]/.test(auth)) throw sinkOptionError('http sink: TAILSHIP_HTTP_AUTHORIZATION contains a line break');
    cfg.headers.authorization = auth;
  }

  for (const key of [...q.keys()]) {
    if (key === 'gzip' || key === 'timeout' || key === 'insecure' || key === 'ca' || key.startsWith('header.')) q.delete(key);
  }
  cfg.display = `${url.origin}${url.pathname}`;
  return cfg;
}

/** The request body of one batch: the rendered or default JSON, gzipped at `gzipLevel` (0: not). */
async function requestBody(batch: Batch, render: ReturnType<typeof takeHttpRender>, gzipLevel: number): Promise<Buffer> {
  if (gzipLevel > 0) {
    // The JSON is only read by zlib: its buffer is reused by the next batch as soon as gzip is done.
    const json = render ? render.writer(batch) : httpBatchBodyWriter(batch);
    try {
      return await gzipAsync(json.bytes(), { level: gzipLevel, chunkSize: GZIP_CHUNK_BYTES });
    } finally {
      json.release();
    }
  }
  return render ? render.writer(batch).bytes() : httpBatchBodyBytes(batch); // undici may read it until the request is done: left to the GC
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
  const path = `${cfg.url.pathname}${cfg.url.search}`;

  let closing: Promise<void> | undefined;

  async function send(batch: Batch, signal?: AbortSignal): Promise<void> {
    if (closing) throw closedError('http');
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

  return {
    name: 'http',
    send,
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

/** The HTTP batch body of SPEC §3. `project` and `product` are left out when the input has none. */
export function httpBatchBody(batch: Batch): string {
  const head = httpBatchHead(batch);
  const logs = batch.events.map((e) => renderLog(e, e.markers ? JSON.stringify(e.markers) : undefined));
  return `${head}${logs.join(',')}]}`;
}

/** The body up to the first log: `{"logstore":…,"project":…,"product":…,"source":…,"tags":{…},"logs":[`. */
function httpBatchHead(batch: Batch): string {
  let head = `{"logstore":${JSON.stringify(batch.logstore)}`;
  if (batch.project !== undefined) head += `,"project":${JSON.stringify(batch.project)}`;
  if (batch.product !== undefined) head += `,"product":${JSON.stringify(batch.product)}`;
  head += `,"source":${JSON.stringify(batch.source)},"tags":${JSON.stringify(batch.tags)},"logs":[`;
  return head;
}

/** The bytes of `httpBatchBody(batch)`, encoded straight into one buffer (the hot path: no joined string). */
export function httpBatchBodyBytes(batch: Batch): Buffer {
  return httpBatchBodyWriter(batch).bytes();
}

function httpBatchBodyWriter(batch: Batch): BodyWriter {
  const head = httpBatchHead(batch);
  const w = new BodyWriter(head.length + batch.rawBytes + batch.events.length * 40 + 16);
  w.write(head);
  const events = batch.events;
  for (let i = 0; i < events.length; i++) {
    if (i > 0) w.write(',');
    const e = events[i]!;
    writeLog(w, e, e.markers ? markersJson(e.markers) : undefined);
  }
  w.write(']}');
  return w;
}

/** Maps a non-2xx answer to the SinkError the deliverer acts on (SPEC §3). */
export function responseError(
  where: string,
  status: number,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  now: number = Date.now(),
): SinkError {
  const extra = { statusCode: status, responseBody: body || undefined };
  const said = body ? `: ${oneLine(body, 300)}` : '';
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(headers['retry-after'], now);
    const code = status === 429 ? ErrorCodes.SINK_THROTTLED : status === 408 ? ErrorCodes.SINK_TIMEOUT : ErrorCodes.SINK_HTTP_5XX;
    return new SinkError('retryable', code, `${where}: the store answered ${status}${said}`, { ...extra, retryAfterMs });
  }
  if (status === 413) {
    return new SinkError('too-large', ErrorCodes.SINK_TOO_LARGE, `${where}: the store answered 413 (request too large)${said}`, extra);
  }
  if (status === 401 || status === 403) {
    const fix = 'check TAILSHIP_HTTP_AUTHORIZATION (or ?header.) has credentials the store accepts';
    return new SinkError('blocked', ErrorCodes.SINK_AUTH, `${where}: the store answered ${status}${said}; fix: ${fix}`, { ...extra, fix });
  }
  if (status >= 300 && status < 400) {
    const location = typeof headers.location === 'string' ? ` to ${headers.location.split('?')[0]}` : '';
    const fix = 'set the sink URI to the final address';
    return new SinkError('blocked', ErrorCodes.SINK_HTTP_REDIRECT, `${where}: the store answered a redirect ${status}${location}; fix: ${fix}`, { ...extra, fix });
  }
  if (status >= 400 && status < 500) {
    return new SinkError('rejected', ErrorCodes.SINK_HTTP_4XX, `${where}: the store rejected the batch with ${status}${said}`, extra);
  }
  // 1xx or other oddities that undici hands over as final: retry, never drop.
  return new SinkError('retryable', ErrorCodes.SINK_HTTP_UNEXPECTED, `${where}: unexpected answer ${status}${said}`, extra);
}

function networkError(where: string, err: unknown): SinkError {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e?.code ?? e?.cause?.code;
  const detail = e instanceof Error ? e.message : String(err);
  if (isTlsTrustError(code)) {
    const fix = 'give its CA with ?ca=FILE, or fix the certificate';
    return new SinkError('blocked', ErrorCodes.SINK_TLS_UNTRUSTED, `${where}: the store's TLS certificate is not trusted (${code}); fix: ${fix}`, {
      storeCode: code,
      fix,
      cause: err,
    });
  }
  return new SinkError('retryable', ErrorCodes.SINK_NETWORK, `${where}: ${code ? `${code} ` : ''}${detail}`, { ...(code ? { storeCode: code } : {}), cause: err });
}
