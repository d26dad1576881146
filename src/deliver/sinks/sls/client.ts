import type { Agent } from 'undici';
import { lazyUndici, type LazyClient } from '../lazy-undici.js';
import type { Logger } from '../../../observe/log.js';
import type { SlsCredentials } from './credentials.js';
import { parseRetryAfter } from '../../retry-after.js';
import { parseErrorBody, type SlsReply } from './errors.js';
import { requestTarget, type SlsOptions } from './options.js';
import { authorizationV1, canonicalizedResource, contentMd5, httpDate } from './signature.js';

/** One signed SLS API request (research/logtail-sls.md §3.2). */
export interface SlsRequest {
  project: string;
  method: 'POST' | 'GET' | 'PUT' | 'DELETE';
  /** Escaped path, e.g. `/logstores/audit/shards/lb`. */
  path: string;
  body: Buffer;
  contentType: string;
  /** Size before compression (`x-log-bodyrawsize`). */
  rawSize: number;
  compressType?: 'lz4' | 'deflate';
  signal?: AbortSignal;
}

export const USER_AGENT = 'tailship';

/**
 * Signs and sends SLS requests over keep-alive connections (one undici Agent: a pool per `{project}.{endpoint}`
 * origin). Keeps the offset between the local clock and the server's, learnt from a RequestTimeExpired answer,
 * so that a node with a drifting clock still gets its `Date` accepted. Network errors are thrown as they are.
 */
export class SlsClient {
  readonly #opts: SlsOptions;
  readonly #agent: LazyClient<Agent>;
  readonly #logger: Logger | undefined;
  #clockOffsetMs = 0;

  constructor(opts: SlsOptions, logger?: Logger) {
    this.#opts = opts;
    this.#logger = logger;
    this.#agent = lazyUndici(
      ({ Agent }) =>
        new Agent({
          connections: 4,
          keepAliveTimeout: 30_000,
          connect: { timeout: Math.min(opts.timeoutMs, 10_000) },
          headersTimeout: opts.timeoutMs,
          bodyTimeout: opts.timeoutMs,
          // Error bodies are a few hundred bytes; success bodies are empty.
          maxResponseSize: 1 << 20,
        }),
    );
  }

  /** The headers of a request, with `Date`, `Content-MD5` and the v1 `Authorization` over them. */
  signedHeaders(req: SlsRequest, creds: SlsCredentials, projectHeader?: string): Record<string, string> {
    const headers: Record<string, string> = {
      'content-type': req.contentType,
      'content-md5': contentMd5(req.body),
      date: httpDate(Date.now() + this.#clockOffsetMs),
      'user-agent': USER_AGENT,
      'x-log-apiversion': '0.6.0',
      'x-log-signaturemethod': 'hmac-sha1',
      'x-log-bodyrawsize': String(req.rawSize),
    };
    if (req.compressType) headers['x-log-compresstype'] = req.compressType;
    if (projectHeader) headers['x-log-project'] = projectHeader;
    if (creds.securityToken) headers['x-acs-security-token'] = creds.securityToken;
    headers.authorization = authorizationV1(
      creds.accessKeyId,
      creds.accessKeySecret,
      req.method,
      canonicalizedResource(req.path),
      headers,
    );
    return headers;
  }

  /** Sends the request; resolves with the answer (any status), rejects only when there was none. */
  async request(req: SlsRequest, creds: SlsCredentials): Promise<SlsReply> {
    const target = requestTarget(this.#opts, req.project);
    const res = await (await this.#agent.get()).request({
      origin: target.origin,
      path: req.path,
      method: req.method,
      headers: this.signedHeaders(req, creds, target.projectHeader),
      body: req.body,
      ...(req.signal ? { signal: req.signal } : {}),
    });
    const body = await res.body.text();
    const header = (name: string): string | undefined => {
      const v = res.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const reply: SlsReply = { status: res.statusCode, body };
    const requestId = header('x-log-requestid');
    if (requestId) reply.requestId = requestId;
    if (res.statusCode !== 200) {
      Object.assign(reply, parseErrorBody(body));
      const retryAfterMs = parseRetryAfter(header('retry-after'));
      if (retryAfterMs !== undefined) reply.retryAfterMs = retryAfterMs;
      if (reply.code === 'RequestTimeExpired') this.#syncClock(header('x-log-time'), header('date'));
    }
    return reply;
  }

  #syncClock(logTime: string | undefined, date: string | undefined): void {
    const serverMs = logTime && /^\d+$/.test(logTime) ? Number(logTime) * 1000 : date ? Date.parse(date) : NaN;
    if (Number.isNaN(serverMs)) return;
    this.#clockOffsetMs = serverMs - Date.now();
    this.#logger?.warn(
      { clockOffsetMs: this.#clockOffsetMs },
      "SLS says the request time is off (RequestTimeExpired): using the server's clock from now on; fix the node's clock (NTP)",
    );
  }

  async close(): Promise<void> {
    await (await this.#agent.made())?.close();
  }
}
