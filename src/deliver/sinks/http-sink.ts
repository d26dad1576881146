import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Batch } from '../../batch/batch.js';
import type { Logger } from '../../observe/log.js';
import type { Metrics } from '../../observe/metrics.js';
import { BodyWriter, renderLog, writeLog } from '../render.js';
import { parseRetryAfter } from '../retry-policy.js';
import { SinkError, type Sink } from '../sink.js';
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
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`http sink: ${url.protocol} is not http: or https:`);
  const q = url.searchParams;
  const cfg: HttpSinkConfig = { url, display: '', gzipLevel: DEFAULT_GZIP_LEVEL, headers: {}, timeoutMs: DEFAULT_TIMEOUT_MS, insecure: false };

  const gz = q.get('gzip');
  if (gz !== null) {
    if (gz === 'false') cfg.gzipLevel = 0;
    else if (gz === 'true' || gz === '') cfg.gzipLevel = DEFAULT_GZIP_LEVEL;
    else if (/^[1-9]$/.test(gz)) cfg.gzipLevel = Number(gz);
    else throw new Error(`http sink: ?gzip=${gz} is not valid: use ?gzip=false, ?gzip=true or a level ?gzip=1 … ?gzip=9`);
  }
  const timeout = q.get('timeout');
  if (timeout !== null) {
    if (!/^\d+$/.test(timeout) || Number(timeout) < 1) throw new Error(`http sink: ?timeout=${timeout} is not valid: give milliseconds, e.g. ?timeout=30000`);
    cfg.timeoutMs = Number(timeout);
  }
  const insecure = q.get('insecure');
  if (insecure !== null) {
    if (insecure !== 'true' && insecure !== 'false') throw new Error(`http sink: ?insecure=${insecure} is not valid: use ?insecure=true or leave it out`);
    cfg.insecure = insecure === 'true';
  }
  const ca = q.get('ca');
  if (ca !== null) {
    try {
      cfg.ca = readFileSync(ca);
    } catch (err) {
      throw new Error(`http sink: cannot read the CA file ?ca=${ca}: ${(err as NodeJS.ErrnoException).code ?? String(err)}; give a PEM file readable by tailship`);
    }
  }
  for (const [key, value] of q) {
    if (!key.startsWith('header.')) continue;
    const name = key.slice('header.'.length).toLowerCase();
    if (!TOKEN.test(name)) throw new Error(`http sink: ?${key}= is not a valid header name`);
    if (RESERVED_HEADERS.has(name)) throw new Error(`http sink: ?${key}= cannot be set: tailship sets ${name} itself`);
    if (/[\r\n\0]/.test(value)) throw new Error(`http sink: the value of ?${key}= contains a line break`);
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
    if (/[\r\n\0]/.test(auth)) throw new Error('http sink: TAILSHIP_HTTP_AUTHORIZATION contains a line break');
    cfg.headers.authorization = auth;
  }

  for (const key of [...q.keys()]) {
    if (key === 'gzip' || key === 'timeout' || key === 'insecure' || key === 'ca' || key.startsWith('header.')) q.delete(key);
  }
  cfg.display = `${url.origin}${url.pathname}`;
  return cfg;
}

/**
 * `http://…` / `https://…` (SPEC §3): POSTs one batch per request as JSON (gzip by default) on a keep-alive
 * undici Pool of HTTP_CONNECTIONS connections, and maps the answer to an acknowledgement or a SinkError the
 * deliverer acts on. Never puts a header value in a log line or an error message.
 */
export function createHttpSink(url: URL, ctx: HttpSinkContext): Sink {
  const cfg = parseHttpSinkUrl(url, ctx.env);
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

  async function send(batch: Batch, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    let body: Buffer;
    if (cfg.gzipLevel > 0) {
      // The JSON is only read by zlib: its buffer is reused by the next batch as soon as gzip is done.
      const json = httpBatchBodyWriter(batch);
      try {
        body = await gzipAsync(json.bytes(), { level: cfg.gzipLevel, chunkSize: GZIP_CHUNK_BYTES });
      } finally {
        json.release();
      }
    } else {
      body = httpBatchBodyBytes(batch); // undici may read it until the request is done: left to the GC
    }
    const headers: Record<string, string> = {
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
        throw new SinkError('retryable', `${where}: no complete answer within ${cfg.timeoutMs} ms (?timeout=)`, { code: 'TIMEOUT', cause: err });
      }
      throw networkError(where, err);
    }
    throw responseError(where, status, resHeaders, text);
  }

  return {
    name: 'http',
    send,
    async close(): Promise<void> {
      const made = pool.made();
      if (!made) return; // never sent: undici was never loaded
      const client = await made;
      // Let requests on the wire finish briefly; a batch cut off here is not acknowledged and is sent again later.
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), 2000)));
      const outcome = await Promise.race([client.close().then(() => 'closed' as const), graceOver]);
      clearTimeout(timer);
      if (outcome === 'late') await client.destroy();
    },
  };
}

/** The HTTP batch body of SPEC §3. `project` and `product` are left out when the input has none. */
export function httpBatchBody(batch: Batch): string {
  let head = `{"logstore":${JSON.stringify(batch.logstore)}`;
  if (batch.project !== undefined) head += `,"project":${JSON.stringify(batch.project)}`;
  if (batch.product !== undefined) head += `,"product":${JSON.stringify(batch.product)}`;
  head += `,"source":${JSON.stringify(batch.source)},"tags":${JSON.stringify(batch.tags)},"logs":[`;
  const logs = batch.events.map((e) => renderLog(e, e.markers ? JSON.stringify(e.markers) : undefined));
  return `${head}${logs.join(',')}]}`;
}

/** The bytes of `httpBatchBody(batch)`, encoded straight into one buffer (the hot path: no joined string). */
export function httpBatchBodyBytes(batch: Batch): Buffer {
  return httpBatchBodyWriter(batch).bytes();
}

function httpBatchBodyWriter(batch: Batch): BodyWriter {
  let head = `{"logstore":${JSON.stringify(batch.logstore)}`;
  if (batch.project !== undefined) head += `,"project":${JSON.stringify(batch.project)}`;
  if (batch.product !== undefined) head += `,"product":${JSON.stringify(batch.product)}`;
  head += `,"source":${JSON.stringify(batch.source)},"tags":${JSON.stringify(batch.tags)},"logs":[`;
  const w = new BodyWriter(head.length + batch.rawBytes + batch.events.length * 40 + 16);
  w.write(head);
  const events = batch.events;
  for (let i = 0; i < events.length; i++) {
    if (i > 0) w.write(',');
    const e = events[i]!;
    writeLog(w, e, e.markers ? JSON.stringify(e.markers) : undefined);
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
    return new SinkError('retryable', `${where}: the store answered ${status}${said}`, { ...extra, retryAfterMs });
  }
  if (status === 413) {
    return new SinkError('too-large', `${where}: the store answered 413 (request too large)${said}`, extra);
  }
  if (status === 401 || status === 403) {
    return new SinkError(
      'blocked',
      `${where}: the store answered ${status}${said}; fix: check TAILSHIP_HTTP_AUTHORIZATION (or ?header.) has credentials the store accepts`,
      extra,
    );
  }
  if (status >= 300 && status < 400) {
    const location = typeof headers.location === 'string' ? ` to ${headers.location.split('?')[0]}` : '';
    return new SinkError('blocked', `${where}: the store answered a redirect ${status}${location}; fix: set the sink URI to the final address`, extra);
  }
  if (status >= 400 && status < 500) {
    return new SinkError('rejected', `${where}: the store rejected the batch with ${status}${said}`, extra);
  }
  // 1xx or other oddities that undici hands over as final: retry, never drop.
  return new SinkError('retryable', `${where}: unexpected answer ${status}${said}`, extra);
}

const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function networkError(where: string, err: unknown): SinkError {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e?.code ?? e?.cause?.code;
  const detail = e instanceof Error ? e.message : String(err);
  if (code && TLS_TRUST_CODES.has(code)) {
    return new SinkError(
      'blocked',
      `${where}: the store's TLS certificate is not trusted (${code}); fix: give its CA with ?ca=FILE, or fix the certificate`,
      { code, cause: err },
    );
  }
  return new SinkError('retryable', `${where}: ${code ? `${code} ` : ''}${detail}`, { code, cause: err });
}

async function readPrefix(body: AsyncIterable<Buffer>, limit: number): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of body) {
      parts.push(chunk);
      n += chunk.length;
      if (n >= limit) break; // leaving the loop destroys the rest of the answer (and that connection)
    }
  } catch {
    // a body cut off half-way still tells us what we have of it
  }
  return new TextDecoder().decode(Buffer.concat(parts).subarray(0, limit));
}

function oneLine(text: string, max: number): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
