import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Pool } from 'undici';
import { closePoolGracefully } from '../close-pool.js';
import { lazyUndici } from './lazy-undici.js';
import { ErrorCodes, type ErrorCode } from '../../errors.js';
import { parseRetryAfter } from '../retry-after.js';
import { SinkError } from '../sink.js';

const gzipAsync = promisify(gzip);

/**
 * The HTTP plumbing shared by the Elasticsearch, Loki and OTLP sinks: a keep-alive undici Pool, one deadline per
 * request, TLS options from the URI, optional gzip, and the mapping of transport failures and plain HTTP statuses
 * to SinkError kinds. Store-specific answers (a `_bulk` item, a Loki "out of order", an OTLP partial success)
 * are read by each sink from the body this returns.
 */
export interface StoreClientOptions {
  /** `http:` / `https:` origin of the store. */
  origin: string;
  /** For messages: store name and address without secrets. */
  display: string;
  timeoutMs: number;
  ca?: Buffer;
  insecure: boolean;
  /** gzip level of request bodies, 0 = none. */
  gzipLevel: number;
  /** Headers sent with every request (auth). Never logged. */
  headers: Record<string, string>;
  /** How much of a 2xx body is read (a `_bulk` answer names every item). */
  maxBodyBytes?: number;
}

export interface StoreReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export const STORE_CONNECTIONS = 4;
export const ERROR_BODY_LIMIT = 4096;

/** TLS, timeout and gzip parameters common to these sinks; removed from `q` (they are tailship's). */
export function takeTransportParams(q: URLSearchParams, what: string): Pick<StoreClientOptions, 'timeoutMs' | 'ca' | 'insecure' | 'gzipLevel'> {
  const out = { timeoutMs: 30_000, insecure: false, gzipLevel: 0 } as Pick<StoreClientOptions, 'timeoutMs' | 'ca' | 'insecure' | 'gzipLevel'>;
  const timeout = q.get('timeout');
  if (timeout !== null) {
    if (!/^\d+$/.test(timeout) || Number(timeout) < 1) throw new Error(`${what}: ?timeout=${timeout} is not valid: give milliseconds, e.g. ?timeout=30000`);
    out.timeoutMs = Number(timeout);
  }
  const insecure = q.get('insecure');
  if (insecure !== null) {
    if (insecure !== 'true' && insecure !== 'false') throw new Error(`${what}: ?insecure=${insecure} is not valid: use ?insecure=true or leave it out`);
    out.insecure = insecure === 'true';
  }
  const gz = q.get('gzip');
  if (gz !== null) {
    if (gz === 'false') out.gzipLevel = 0;
    else if (gz === 'true' || gz === '') out.gzipLevel = 3;
    else if (/^[1-9]$/.test(gz)) out.gzipLevel = Number(gz);
    else throw new Error(`${what}: ?gzip=${gz} is not valid: use ?gzip=true, ?gzip=false or a level 1 … 9`);
  }
  const ca = q.get('ca');
  if (ca !== null) {
    try {
      out.ca = readFileSync(ca);
    } catch (err) {
      throw new Error(`${what}: cannot read the CA file ?ca=${ca}: ${(err as NodeJS.ErrnoException).code ?? String(err)}; give a PEM file readable by tailship`);
    }
  }
  for (const k of ['timeout', 'insecure', 'gzip', 'ca']) q.delete(k);
  return out;
}

export interface StoreClient {
  /** POSTs and returns the answer whatever its status; throws a retryable/blocked SinkError on transport failure. */
  post(path: string, body: Buffer, headers: Record<string, string>, signal?: AbortSignal): Promise<StoreReply>;
  close(): Promise<void>;
}

export function createStoreClient(o: StoreClientOptions): StoreClient {
  // undici is loaded on the first request, never for an agent that never sends (lazy-undici.ts).
  const pool = lazyUndici<Pool>(
    (undici) =>
      new undici.Pool(o.origin, {
        connections: STORE_CONNECTIONS,
        keepAliveTimeout: 30_000,
        headersTimeout: o.timeoutMs,
        bodyTimeout: o.timeoutMs,
        connect: { rejectUnauthorized: !o.insecure, ...(o.ca ? { ca: o.ca } : {}) },
      }),
  );
  const maxBody = o.maxBodyBytes ?? 64 << 20;
  let closed: Promise<void> | undefined;

  return {
    async post(path, body, headers, signal) {
      signal?.throwIfAborted();
      // Closed: retryable, so the batch is kept and the next run sends it (the sink contract).
      if (closed) throw new SinkError('retryable', ErrorCodes.SINK_CLOSED, `POST ${o.display}: the sink is closed`);
      const h: Record<string, string> = { ...o.headers, ...headers };
      let payload = body;
      if (o.gzipLevel > 0) {
        payload = await gzipAsync(body, { level: o.gzipLevel });
        h['content-encoding'] = 'gzip';
      }
      const deadline = AbortSignal.timeout(o.timeoutMs);
      const requestSignal = signal ? AbortSignal.any([signal, deadline]) : deadline;
      const where = `POST ${o.display}${path.split('?')[0]}`;
      try {
        const res = await (await pool.get()).request({ path, method: 'POST', headers: h, body: payload, signal: requestSignal });
        const ok = res.statusCode >= 200 && res.statusCode < 300;
        const text = await readPrefix(res.body, ok ? maxBody : ERROR_BODY_LIMIT);
        return { status: res.statusCode, headers: res.headers, body: text };
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        if (closed) throw new SinkError('retryable', ErrorCodes.SINK_CLOSED, `${where}: the sink was closed during the request`, { cause: err });
        if (deadline.aborted) {
          throw new SinkError('retryable', ErrorCodes.SINK_NETWORK, `${where}: no complete answer within ${o.timeoutMs} ms (?timeout=)`, { cause: err });
        }
        throw transportError(where, err);
      }
    },
    async close() {
      if (closed) return closed;
      closed = closeOnce();
      return closed;
    },
  };

  async function closeOnce(): Promise<void> {
    const made = pool.made();
    if (made) await closePoolGracefully(await made); // never sent: nothing was loaded, nothing to close
  }
}

/**
 * A whole-request answer that is not a success, as the SinkError the deliverer acts on: 408/429/5xx retry
 * (Retry-After honoured), 413 split, 401/403 blocked (with the fix `authFix`), other 4xx rejected. 413 and
 * 401/403 carry the shared codes SINK_TOO_LARGE and SINK_AUTH (the sink contract: the same fault has the same
 * code whatever the store); the rest carry the store's `code`.
 */
export function statusError(where: string, reply: StoreReply, code: ErrorCode, authFix: string, now = Date.now()): SinkError {
  const text = reply.body.subarray(0, ERROR_BODY_LIMIT).toString('utf8');
  const extra = { statusCode: reply.status, responseBody: text || undefined };
  const said = text ? `: ${oneLine(text, 300)}` : '';
  const s = reply.status;
  if (s === 408 || s === 429 || s >= 500) {
    return new SinkError('retryable', code, `${where}: the store answered ${s}${said}`, { ...extra, retryAfterMs: parseRetryAfter(reply.headers['retry-after'], now) });
  }
  if (s === 413) return new SinkError('too-large', ErrorCodes.SINK_TOO_LARGE, `${where}: the store answered 413 (request too large)${said}`, extra);
  if (s === 401 || s === 403) return new SinkError('blocked', ErrorCodes.SINK_AUTH, `${where}: the store answered ${s}${said}; fix: ${authFix}`, extra);
  if (s === 404) return new SinkError('blocked', code, `${where}: the store answered 404${said}; fix: check the sink URI's host, port and path`, extra);
  if (s >= 300 && s < 400) return new SinkError('blocked', code, `${where}: the store answered a redirect ${s}; fix: set the sink URI to the final address`, extra);
  if (s >= 400 && s < 500) return new SinkError('rejected', code, `${where}: the store rejected the request with ${s}${said}`, extra);
  return new SinkError('retryable', code, `${where}: unexpected answer ${s}${said}`, extra);
}

const TLS_TRUST = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME/;

function transportError(where: string, err: unknown): SinkError {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e?.code ?? e?.cause?.code;
  const detail = e instanceof Error ? e.message : String(err);
  if (code && TLS_TRUST.test(code)) {
    return new SinkError('blocked', ErrorCodes.SINK_NETWORK, `${where}: the store's TLS certificate is not trusted (${code}); fix: give its CA with ?ca=FILE, or fix the certificate`, { cause: err });
  }
  return new SinkError('retryable', ErrorCodes.SINK_NETWORK, `${where}: ${code ? `${code} ` : ''}${detail}`, { cause: err });
}

async function readPrefix(body: AsyncIterable<Buffer>, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of body) {
    parts.push(chunk);
    n += chunk.length;
    if (n >= limit) break;
  }
  return Buffer.concat(parts).subarray(0, limit);
}

export function oneLine(text: string, max: number): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** `Authorization` from a header-safe value: refuses line breaks (header injection). */
export function safeHeader(name: string, value: string): string {
  if (/[\r\n\0]/.test(value)) throw new Error(`${name} contains a line break`);
  return value;
}
