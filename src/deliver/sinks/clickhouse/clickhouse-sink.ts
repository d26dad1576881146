import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { lazyUndici, type LazyClient } from '../lazy-undici.js';
import type { Pool } from 'undici';
import type { Batch } from '../../../batch/batch.js';
import { ErrorCodes } from '../../../errors.js';
import type { Logger } from '../../../observe/log.js';
import { closedError, SinkError, type Sink } from '../../sink.js';
import { networkError, responseError } from './errors.js';
import { parseClickHouseUri, type ClickHouseConfig } from './options.js';
import { createDatabaseSql, createTableSql, insertSql, rowsBody } from './rows.js';
import { closePoolGracefully } from '../../close-pool.js';
import { readPrefix } from '../../response-text.js';

const gzipAsync = promisify(gzip);
const GZIP_CHUNK_BYTES = 256 * 1024;
const RESPONSE_BODY_LIMIT = 4096;
/** Matches the deliverer's default of 4 sends at a time. */
const CONNECTIONS = 4;
/** Blocks remembered for `insert_deduplication_token` in a table tailship creates. */
const DEDUP_WINDOW = 1000;

export interface ClickHouseSinkContext {
  logger: Logger;
  env: Record<string, string | undefined>;
}

/** What the server can do, from `SELECT version()` (asked once). */
export interface ServerFeatures {
  version: string;
  /** `insert_deduplication_token` (22.2). */
  dedupToken: boolean;
  /** `async_insert` exists (21.11): tailship turns it off so that 200 means the rows are in a part. */
  asyncInsert: boolean;
}

export function featuresOf(version: string): ServerFeatures {
  const [major = 0, minor = 0] = version.split('.').map((p) => Number.parseInt(p, 10) || 0);
  const atLeast = (a: number, b: number): boolean => major > a || (major === a && minor >= b);
  return { version, dedupToken: atLeast(22, 2), asyncInsert: atLeast(21, 11) };
}

/**
 * `clickhouse+http(s)://HOST:PORT/DATABASE.TABLE` (SPEC §10): one `INSERT … FORMAT JSONEachRow` per batch over
 * ClickHouse's HTTP interface, gzip request body, a keep-alive undici Pool. 200 is the acknowledgement: ClickHouse
 * answers an INSERT only after the rows are written as a part (tailship turns `async_insert` off on servers that
 * have it). Repeats are harmless: the table is a ReplacingMergeTree keyed by (event_time, event_id), and on servers
 * ≥ 22.2 the insert carries `insert_deduplication_token` (the SHA-256 of its rows) so a repeated batch makes no
 * second part at all in a table created with `?create=true`.
 */
export function createClickHouseSink(uri: string, ctx: ClickHouseSinkContext): Sink {
  const cfg = parseClickHouseUri(uri, ctx.env);
  if (cfg.insecure) {
    ctx.logger.warn({ sink: cfg.display }, 'clickhouse sink: TLS CERTIFICATE VERIFICATION IS OFF (?insecure=true); use ?ca=FILE for a private CA instead.');
  }
  const pool = lazyPool(cfg);
  const request = requester(pool, cfg, authHeaders(cfg));

  let ready: Promise<ServerFeatures> | undefined;
  let closed = false;

  async function init(signal?: AbortSignal): Promise<ServerFeatures> {
    const version = (await request('SELECT version()', {}, 'SELECT version()', {}, signal)).trim();
    const features = featuresOf(version);
    if (cfg.create) {
      await request('CREATE DATABASE', {}, createDatabaseSql(cfg), {}, signal);
      await request('CREATE TABLE', {}, createTableSql(cfg, features.dedupToken ? DEDUP_WINDOW : 0), {}, signal);
    }
    ctx.logger.info(
      { sink: cfg.display, serverVersion: version, dedupToken: features.dedupToken, create: cfg.create },
      features.dedupToken ? 'clickhouse sink ready: inserts carry insert_deduplication_token' : 'clickhouse sink ready: server older than 22.2, repeats are merged by ReplacingMergeTree only (query with FINAL)',
    );
    return features;
  }

  function features(signal?: AbortSignal): Promise<ServerFeatures> {
    if (!ready) {
      const p = init(signal);
      ready = p;
      p.catch(() => {
        if (ready === p) ready = undefined; // asked again by the next send
      });
    }
    return ready;
  }

  const inFlight = inFlightTracker();
  function send(batch: Batch, signal?: AbortSignal): Promise<void> {
    if (closed) return Promise.reject(closedError('clickhouse'));
    return inFlight.track(sendNow(batch, signal));
  }

  async function sendNow(batch: Batch, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (batch.events.length === 0) return;
    const f = await features(signal);
    const rows = rowsBody(batch);
    let body: Buffer;
    let token: string | undefined;
    try {
      if (f.dedupToken) token = createHash('sha256').update(rows.bytes()).digest('hex');
      body = cfg.gzipLevel > 0 ? await gzipAsync(rows.bytes(), { level: cfg.gzipLevel, chunkSize: GZIP_CHUNK_BYTES }) : Buffer.from(rows.bytes());
    } finally {
      rows.release();
    }
    // wait_end_of_query: the answer's status is the insert's outcome. skip_unknown_fields: a table of the user's
    // own may leave out columns it does not want.
    const params: Record<string, string> = { query: insertSql(cfg), input_format_skip_unknown_fields: '1', wait_end_of_query: '1' };
    if (f.asyncInsert) params.async_insert = '0';
    if (token) params.insert_deduplication_token = token;
    const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' };
    if (cfg.gzipLevel > 0) headers['content-encoding'] = 'gzip';
    await request(`INSERT (batch ${batch.id}, ${batch.events.length} rows)`, params, body, headers, signal);
  }

  return {
    name: 'clickhouse',
    send,
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await inFlight.settled();
      const made = pool.made();
      if (!made) return; // never sent: undici was never loaded
      await closePoolGracefully(await made);
    },
  };
}

/** The keep-alive pool, made (and undici imported) on the first request. */
function lazyPool(cfg: ClickHouseConfig): LazyClient<Pool> {
  return lazyUndici(({ Pool }) =>
    new Pool(cfg.origin, {
      connections: CONNECTIONS,
      keepAliveTimeout: 2_000, // ClickHouse closes idle keep-alive connections after 3 s (18.16 default keep_alive_timeout)
      headersTimeout: cfg.timeoutMs,
      bodyTimeout: cfg.timeoutMs,
      connect: { rejectUnauthorized: !cfg.insecure, ...(cfg.ca ? { ca: cfg.ca } : {}) },
    }),
  );
}

function authHeaders(cfg: ClickHouseConfig): Record<string, string> {
  const auth: Record<string, string> = {};
  if (cfg.user !== undefined) auth['x-clickhouse-user'] = cfg.user;
  if (cfg.password !== undefined) auth['x-clickhouse-key'] = cfg.password;
  return auth;
}

/** One request; resolves with the body of a 200, else throws the mapped SinkError. */
type Request = (what: string, params: Record<string, string>, body: Buffer | string, headers: Record<string, string>, signal?: AbortSignal) => Promise<string>;

function requester(pool: LazyClient<Pool>, cfg: ClickHouseConfig, auth: Record<string, string>): Request {
  return async function request(what: string, params: Record<string, string>, body: Buffer | string, headers: Record<string, string>, signal?: AbortSignal): Promise<string> {
    const deadline = AbortSignal.timeout(cfg.timeoutMs);
    const requestSignal = signal ? AbortSignal.any([signal, deadline]) : deadline;
    const where = `clickhouse ${cfg.display}: ${what}`;
    const path = `${cfg.basePath}?${new URLSearchParams(params).toString()}`;
    let status: number;
    let resHeaders: Record<string, string | string[] | undefined>;
    let text: string;
    try {
      const res = await (await pool.get()).request({ path, method: 'POST', headers: { ...auth, ...headers }, body, signal: requestSignal });
      status = res.statusCode;
      resHeaders = res.headers;
      text = await readPrefix(res.body, RESPONSE_BODY_LIMIT);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (deadline.aborted) {
        throw new SinkError('retryable', ErrorCodes.SINK_CLICKHOUSE_NETWORK, `${where}: no complete answer within ${cfg.timeoutMs} ms (?timeout=)`, { cause: err });
      }
      throw networkError(where, err);
    }
    // A 200 whose body is an exception: the server sent its headers before the error (progress headers in the
    // user's profile); wait_end_of_query=1 prevents it, this catches it anyway.
    if (status === 200 && !/^Code: \d+|DB::Exception/.test(text)) return text;
    throw responseError(where, status === 200 ? 500 : status, resHeaders, text);
  };
}

export type { ClickHouseConfig };
export { parseClickHouseUri };

/** Sends under way, so that close() waits for them before it closes the pool (the sink contract). */
function inFlightTracker(): { track(p: Promise<void>): Promise<void>; settled(): Promise<unknown> } {
  const under = new Set<Promise<void>>();
  return {
    track(p) {
      const done = p.then(
        () => undefined,
        () => undefined,
      );
      under.add(done);
      void done.then(() => under.delete(done));
      return p;
    },
    settled: () => Promise.all([...under]),
  };
}
