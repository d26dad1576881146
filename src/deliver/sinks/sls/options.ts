import { isIP } from 'node:net';
import { sinkOptionError, sinkUriError } from '../../sink-config-error.js';

/**
 * `sls://{endpoint}[:port][?project=&compress=&create=&topic=&maxRequestBytes=&maxRequestLogs=&timeout=]`
 * (SPEC §3). `sls+http://` sends plain HTTP.
 */
export interface SlsOptions {
  secure: boolean;
  /** host[:port] of the endpoint as given, e.g. `cn-hangzhou.log.aliyuncs.com`. */
  endpoint: string;
  /** The endpoint is an IP address or `localhost`: send to it, with `x-log-project`, not to `{project}.{endpoint}`. */
  direct: boolean;
  project?: string;
  compress: 'lz4' | 'deflate' | 'none';
  /** Create a missing logstore: `true` except product logstores (k8s-audit), `always`, or `false`. */
  create: 'true' | 'false' | 'always';
  topic?: string;
  /** Raw (uncompressed) LogGroup bytes per request. */
  maxRequestBytes: number;
  /** Logs per request. */
  maxRequestLogs: number;
  /** Connect, response-header and body timeout of one request. */
  timeoutMs: number;
}

/**
 * Request limits (research/logtail-sls.md §3.7): the PutLogs doc allows 10 MB raw per request but the log-group
 * doc says 5 MB and the official producers cap at 5 MiB; 5 000 000 is under every reading. Logs per request:
 * no documented server limit; 4096 is the Go producer's default (LoongCollector uses 4000).
 */
export const DEFAULT_MAX_REQUEST_BYTES = 5_000_000;
export const HARD_MAX_REQUEST_BYTES = 10_000_000;
export const DEFAULT_MAX_REQUEST_LOGS = 4096;
export const HARD_MAX_REQUEST_LOGS = 40_960;
/** LoongCollector uses 15 s per request; a 5 MB body on a slow link needs more. */
export const DEFAULT_TIMEOUT_MS = 30_000;

const KNOWN = new Set(['project', 'compress', 'create', 'topic', 'maxRequestBytes', 'maxRequestLogs', 'timeout']);

/** Parses and validates the sink URI; throws an Error that names the parameter and its valid values. */
export function parseSlsUri(url: URL): SlsOptions {
  const scheme = url.protocol;
  if (scheme !== 'sls:' && scheme !== 'sls+http:' && scheme !== 'sls+https:') {
    throw sinkUriError(`not an SLS sink URI: ${url.protocol} (use sls://{endpoint} or sls+http://{endpoint})`);
  }
  const endpoint = url.host;
  if (!endpoint) throw sinkUriError('sls:// sink needs an endpoint, e.g. sls://cn-hangzhou.log.aliyuncs.com?project=my-project');
  for (const name of url.searchParams.keys()) {
    if (!KNOWN.has(name)) throw sinkOptionError(`unknown sls:// parameter ?${name}= (known: ${[...KNOWN].join(', ')})`);
  }
  const q = url.searchParams;
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const compress = q.get('compress') ?? 'lz4';
  if (compress !== 'lz4' && compress !== 'deflate' && compress !== 'none') {
    throw sinkOptionError(`?compress=${compress}: use lz4 (default), deflate or none`);
  }
  const create = q.get('create') ?? 'true';
  if (create !== 'true' && create !== 'false' && create !== 'always') {
    throw sinkOptionError(`?create=${create}: use true (default: create missing logstores, not product ones), always or false`);
  }
  const opts: SlsOptions = {
    secure: scheme !== 'sls+http:',
    endpoint,
    direct: isIP(hostname) !== 0 || hostname === 'localhost',
    compress,
    create,
    maxRequestBytes: intParam(q, 'maxRequestBytes', DEFAULT_MAX_REQUEST_BYTES, 1024, HARD_MAX_REQUEST_BYTES),
    maxRequestLogs: intParam(q, 'maxRequestLogs', DEFAULT_MAX_REQUEST_LOGS, 1, HARD_MAX_REQUEST_LOGS),
    timeoutMs: intParam(q, 'timeout', DEFAULT_TIMEOUT_MS, 100, 600_000),
  };
  const project = q.get('project');
  if (project) opts.project = project;
  const topic = q.get('topic');
  if (topic) opts.topic = topic;
  return opts;
}

function intParam(q: URLSearchParams, name: string, def: number, min: number, max: number): number {
  const v = q.get(name);
  if (v === null) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw sinkOptionError(`?${name}=${v}: must be an integer from ${min} to ${max}`);
  return n;
}

/** Where a request for a project goes: the origin to connect to, and the x-log-project header if needed. */
export function requestTarget(opts: SlsOptions, project: string): { origin: string; projectHeader?: string } {
  const scheme = opts.secure ? 'https' : 'http';
  if (opts.direct) return { origin: `${scheme}://${opts.endpoint}`, projectHeader: project };
  return { origin: `${scheme}://${project}.${opts.endpoint}` };
}
