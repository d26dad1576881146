// An http(s) sink URI read into what the sink does: the URL requested, gzip, headers and credentials, timeout, TLS.
import { readFileSync } from 'node:fs';
import { sinkOptionError, sinkUriError } from '../sink-config-error.js';

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
export const DEFAULT_TIMEOUT_MS = 30_000;

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
