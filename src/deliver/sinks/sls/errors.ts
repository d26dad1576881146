import { ErrorCodes, type ErrorCode } from '../../../errors.js';
import { SinkError, type SinkErrorKind } from '../../sink.js';

/**
 * SLS answers → SinkError kinds (research/logtail-sls.md §3.8). The sink never retries or sleeps itself; the
 * deliverer acts on the kind:
 * - retryable: 5xx, 408, 429, quota and busy codes, network errors, a clock the server finds off;
 * - blocked: nothing will pass until an operator fixes credentials, permissions, project or logstore;
 * - too-large: the server says the body is too large (the deliverer splits the batch);
 * - rejected: the server refuses this body (dead-lettered).
 */

/** What a failed SLS request answered. */
export interface SlsReply {
  status: number;
  code?: string;
  message?: string;
  requestId?: string;
  body: string;
  retryAfterMs?: number;
}

export interface ErrorContext {
  project: string;
  logstore: string;
  endpoint: string;
  /** Where the access key came from (never the key itself). */
  credentialsOrigin: string;
  /** Logs in the refused request (a too-large single log is rejected, not split forever). */
  logs: number;
  /** The API called, for messages; `PutLogs` when not given. */
  operation?: string;
}

/** The SLS errorCodes tailship knows: what the deliverer does with each, and tailship's stable code for it. */
const SLS_CODES: Record<string, { kind: 'retryable' | 'blocked'; code: ErrorCode }> = {
  WriteQuotaExceed: { kind: 'retryable', code: ErrorCodes.SINK_THROTTLED },
  ShardWriteQuotaExceed: { kind: 'retryable', code: ErrorCodes.SINK_THROTTLED },
  ServerBusy: { kind: 'retryable', code: ErrorCodes.SINK_THROTTLED },
  InternalServerError: { kind: 'retryable', code: ErrorCodes.SINK_HTTP_5XX },
  RequestTimeout: { kind: 'retryable', code: ErrorCodes.SINK_TIMEOUT },
  RequestTimeExpired: { kind: 'retryable', code: ErrorCodes.SLS_CLOCK_SKEW },
  Unauthorized: { kind: 'blocked', code: ErrorCodes.SINK_AUTH },
  SignatureNotMatch: { kind: 'blocked', code: ErrorCodes.SINK_AUTH },
  InvalidAccessKeyId: { kind: 'blocked', code: ErrorCodes.SINK_AUTH },
  ProjectForbidden: { kind: 'blocked', code: ErrorCodes.SINK_AUTH },
  ProjectNotExist: { kind: 'blocked', code: ErrorCodes.SLS_PROJECT_NOT_EXIST },
  LogStoreNotExist: { kind: 'blocked', code: ErrorCodes.SLS_LOGSTORE_NOT_EXIST },
  InvalidCompressType: { kind: 'blocked', code: ErrorCodes.SLS_COMPRESSION_UNSUPPORTED },
  InvalidRequestTime: { kind: 'blocked', code: ErrorCodes.SLS_CLOCK_SKEW },
};

const BODY_LIMIT = 2048;

/** Parses an SLS error body `{"errorCode": …, "errorMessage": …}`; anything else gives no code. */
export function parseErrorBody(text: string): { code?: string; message?: string } {
  try {
    const obj = JSON.parse(text) as { errorCode?: unknown; errorMessage?: unknown };
    return {
      ...(typeof obj.errorCode === 'string' ? { code: obj.errorCode } : {}),
      ...(typeof obj.errorMessage === 'string' ? { message: obj.errorMessage } : {}),
    };
  } catch {
    return {};
  }
}

export function kindOf(status: number, code: string | undefined, logs: number): SinkErrorKind {
  const known = code ? SLS_CODES[code] : undefined;
  if (known?.kind === 'retryable') return 'retryable';
  if (code === 'PostBodyTooLarge' || status === 413) return logs > 1 ? 'too-large' : 'rejected';
  if (status >= 500 || status === 408 || status === 429) return 'retryable';
  if (status === 401 || status === 403 || status === 404) return 'blocked';
  return known?.kind ?? 'rejected';
}

/** tailship's stable code for an SLS answer: the SLS errorCode is kept beside it as `storeCode`. */
export function codeOf(status: number, code: string | undefined): ErrorCode {
  const known = code ? SLS_CODES[code] : undefined;
  if (known) return known.code;
  if (code === 'PostBodyTooLarge' || status === 413) return ErrorCodes.SINK_TOO_LARGE;
  if (status === 429) return ErrorCodes.SINK_THROTTLED;
  if (status === 408) return ErrorCodes.SINK_TIMEOUT;
  if (status >= 500) return ErrorCodes.SINK_HTTP_5XX;
  if (status === 401 || status === 403) return ErrorCodes.SINK_AUTH;
  if (status >= 400) return ErrorCodes.SINK_HTTP_4XX;
  return ErrorCodes.SINK_HTTP_UNEXPECTED;
}

/** What the operator should do, per code. */
function fixFor(code: string | undefined, kind: SinkErrorKind, c: ErrorContext): string {
  switch (code) {
    case 'SignatureNotMatch':
      return `check that the access key secret belongs to the access key id (from ${c.credentialsOrigin})`;
    case 'InvalidAccessKeyId':
      return `check that the access key id (from ${c.credentialsOrigin}) exists and is enabled`;
    case 'Unauthorized':
      return (
        `grant the access key (from ${c.credentialsOrigin}) log:PostLogStoreLogs on ` +
        `acs:log:*:*:project/${c.project}/logstore/${c.logstore}, or renew an expired STS token`
      );
    case 'ProjectNotExist':
      return (
        `create project ${c.project} in the region of ${c.endpoint}, or fix the input's _project / the sink's ?project=`
      );
    case 'LogStoreNotExist':
      return `create logstore ${c.logstore} in project ${c.project}, or let tailship create it (sink ?create=true)`;
    case 'InvalidCompressType':
      return 'the endpoint does not take this compression: use the sink parameter ?compress=deflate or ?compress=none';
    case 'RequestTimeExpired':
    case 'InvalidRequestTime':
      return "check the node's clock (SLS accepts ±15 minutes); tailship re-synchronises from the server's time";
    case 'WriteQuotaExceed':
    case 'ShardWriteQuotaExceed':
      return `the project or shard write quota is used up: add shards to ${c.logstore} or raise the project quota`;
  }
  if (kind === 'blocked') return 'check the credentials, the project and the logstore';
  return '';
}

export function sinkErrorFor(reply: SlsReply, c: ErrorContext): SinkError {
  const kind = kindOf(reply.status, reply.code, c.logs);
  const what = reply.code ? `${reply.code}: ${reply.message ?? ''}`.trim() : `HTTP ${reply.status}`;
  const fix = fixFor(reply.code, kind, c);
  const rid = reply.requestId ? `, request id ${reply.requestId}` : '';
  const message =
    `SLS refused ${c.operation ?? 'PutLogs'} to project ${c.project} logstore ${c.logstore} at ${c.endpoint} ` +
    `(HTTP ${reply.status}, ${what}${rid})${fix ? `: ${fix}` : ''}`;
  return new SinkError(kind, codeOf(reply.status, reply.code), message, {
    statusCode: reply.status,
    ...(reply.code ? { storeCode: reply.code } : {}),
    ...(fix ? { fix } : {}),
    ...(reply.retryAfterMs !== undefined ? { retryAfterMs: reply.retryAfterMs } : {}),
    responseBody: reply.body.slice(0, BODY_LIMIT),
  });
}

/** A request that got no answer: connection refused/reset, DNS, TLS, timeout, abort. */
export function networkError(err: unknown, c: Pick<ErrorContext, 'project' | 'logstore' | 'endpoint'>): SinkError {
  const e = err as { code?: string; name?: string; message?: string };
  const aborted = e.name === 'AbortError' || e.code === 'UND_ERR_ABORTED';
  const timedOut = e.code === 'UND_ERR_CONNECT_TIMEOUT' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT';
  const what = aborted ? 'Aborted' : (e.code ?? e.name ?? 'RequestError');
  const code = aborted ? ErrorCodes.SINK_ABORTED : timedOut ? ErrorCodes.SINK_TIMEOUT : ErrorCodes.SINK_NETWORK;
  return new SinkError(
    'retryable',
    code,
    `SLS PutLogs to project ${c.project} logstore ${c.logstore} at ${c.endpoint} failed: ${what}: ${e.message ?? String(err)}`,
    { ...(aborted ? {} : { storeCode: what }), cause: err },
  );
}
