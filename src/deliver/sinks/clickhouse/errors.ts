import { ErrorCodes } from '../../../errors.js';
import { parseRetryAfter } from '../../retry-after.js';
import { oneLine } from '../../response-text.js';
import { isTlsTrustError } from '../../tls-trust.js';
import { SinkError } from '../../sink.js';

/** ClickHouse's own error codes (src/Common/ErrorCodes.cpp) that decide what tailship does with a batch. */
const AUTH = new Set([192 /* UNKNOWN_USER */, 193 /* WRONG_PASSWORD */, 194 /* REQUIRED_PASSWORD */, 195 /* IP_ADDRESS_NOT_ALLOWED */,
  497 /* ACCESS_DENIED / NOT_ENOUGH_PRIVILEGES */, 516 /* AUTHENTICATION_FAILED */]);
const NO_TABLE = new Set([60 /* UNKNOWN_TABLE */, 81 /* UNKNOWN_DATABASE */]);
/** The table exists but cannot take the rows as tailship writes them, or the server takes no writes. */
const TABLE = new Set([16 /* NO_SUCH_COLUMN_IN_TABLE */, 164 /* READONLY */, 48 /* NOT_IMPLEMENTED (e.g. a View) */,
  115 /* UNKNOWN_SETTING */]);
/** A row ClickHouse cannot parse: the batch itself is bad. */
const ROW = new Set([6 /* CANNOT_PARSE_TEXT */, 26 /* CANNOT_PARSE_QUOTED_STRING */, 27 /* CANNOT_PARSE_INPUT_ASSERTION_FAILED */,
  38 /* CANNOT_PARSE_DATE */, 41 /* CANNOT_PARSE_DATETIME */, 53 /* TYPE_MISMATCH */, 69 /* ARGUMENT_OUT_OF_BOUND */,
  70 /* CANNOT_CONVERT_TYPE */, 72 /* CANNOT_PARSE_NUMBER */, 117 /* INCORRECT_DATA */, 130 /* CANNOT_READ_ARRAY_FROM_TEXT */,
  131 /* TOO_LARGE_STRING_SIZE */]);

/** ClickHouse's code from `X-ClickHouse-Exception-Code` (19.x and later) or the body's `Code: N` (every version). */
export function clickHouseCode(headers: Record<string, string | string[] | undefined>, body: string): number | undefined {
  const h = headers['x-clickhouse-exception-code'];
  const hv = Array.isArray(h) ? h[0] : h;
  if (hv && /^\d+$/.test(hv)) return Number(hv);
  const m = /Code:\s*(\d+)/.exec(body);
  return m ? Number(m[1]) : undefined;
}

/**
 * Maps an answer that is not 200 to the SinkError the deliverer acts on. Credentials and size carry the shared
 * SINK_AUTH and SINK_TOO_LARGE (the sink contract: one fault, one code, whatever the store). ClickHouse's code decides first: 18.16
 * answers 500 for a row it cannot parse and 404 for a missing table, newer servers 400 and 404, so the HTTP
 * status alone would retry a bad batch forever on the old server.
 */
export function responseError(where: string, status: number, headers: Record<string, string | string[] | undefined>, body: string, now = Date.now()): SinkError {
  const chCode = clickHouseCode(headers, body);
  const said = body ? `: ${oneLine(body, 400)}` : '';
  const extra = { statusCode: status, responseBody: body || undefined };
  const ch = chCode === undefined ? '' : ` (ClickHouse code ${chCode})`;
  if (chCode !== undefined && AUTH.has(chCode)) {
    return new SinkError('blocked', ErrorCodes.SINK_AUTH, `${where}: ClickHouse refused the credentials${ch}${said}; fix: set TAILSHIP_CLICKHOUSE_USER and TAILSHIP_CLICKHOUSE_PASSWORD to a user allowed to INSERT into the table (and to CREATE it with ?create=true)`, { ...extra});
  }
  if (chCode !== undefined && NO_TABLE.has(chCode)) {
    return new SinkError('blocked', ErrorCodes.SINK_CLICKHOUSE_NO_TABLE, `${where}: the table does not exist${ch}${said}; fix: add ?create=true to the sink URI (tailship creates it as a ReplacingMergeTree), or create it yourself`, { ...extra});
  }
  if (chCode !== undefined && TABLE.has(chCode)) {
    return new SinkError('blocked', ErrorCodes.SINK_CLICKHOUSE_TABLE, `${where}: the table cannot take tailship's rows${ch}${said}; fix: give the table tailship's columns (see ?create=true) or make the server writable`, { ...extra});
  }
  if (chCode !== undefined && ROW.has(chCode)) {
    return new SinkError('rejected', ErrorCodes.SINK_CLICKHOUSE_ROW_REJECTED, `${where}: ClickHouse could not parse a row of the batch${ch}${said}`, { ...extra});
  }
  if (status === 413) { // ClickHouse streams the body and has no size limit of its own: a proxy in front answers 413
    return new SinkError('too-large', ErrorCodes.SINK_TOO_LARGE, `${where}: the request is too large (${status})${ch}${said}`, { ...extra});
  }
  if (status === 401 || status === 403) {
    return new SinkError('blocked', ErrorCodes.SINK_AUTH, `${where}: answered ${status}${ch}${said}; fix: set TAILSHIP_CLICKHOUSE_USER and TAILSHIP_CLICKHOUSE_PASSWORD`, { ...extra});
  }
  if (status === 404 && chCode === undefined) {
    return new SinkError('blocked', ErrorCodes.SINK_CLICKHOUSE_TABLE, `${where}: answered 404 without a ClickHouse error: is this the ClickHouse HTTP port (8123/8443)?${said}`, { ...extra});
  }
  // Everything else with a ClickHouse code (memory limit, too many parts, timeouts, a replica down) is the
  // server's state, not the batch's: retry. So are 408, 429, 5xx without a code, and anything unexpected.
  const retryAfterMs = parseRetryAfter(headers['retry-after'], now);
  if (status >= 400 && status < 500 && status !== 408 && status !== 429 && chCode === undefined) {
    return new SinkError('rejected', ErrorCodes.SINK_CLICKHOUSE_ROW_REJECTED, `${where}: the server rejected the batch with ${status}${said}`, { ...extra});
  }
  return new SinkError('retryable', ErrorCodes.SINK_CLICKHOUSE_SERVER, `${where}: the server answered ${status}${ch}${said}`, { ...extra, retryAfterMs});
}

export function networkError(where: string, err: unknown): SinkError {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e?.code ?? e?.cause?.code;
  const detail = e instanceof Error ? e.message : String(err);
  if (isTlsTrustError(code)) {
    return new SinkError('blocked', ErrorCodes.SINK_CLICKHOUSE_TLS, `${where}: the server's TLS certificate is not trusted (${code}); fix: give its CA with ?ca=FILE, or fix the certificate`, { cause: err });
  }
  return new SinkError('retryable', ErrorCodes.SINK_CLICKHOUSE_NETWORK, `${where}: ${code ? `${code} ` : ''}${detail}`, { cause: err });
}
