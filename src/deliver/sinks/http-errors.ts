// What an http store's answer (or its absence) means for the deliverer: the SinkError of SPEC §3.
import { ErrorCodes } from '../../errors.js';
import { oneLine } from '../response-text.js';
import { parseRetryAfter } from '../retry-after.js';
import { SinkError } from '../sink.js';
import { isTlsTrustError } from '../tls-trust.js';

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

export function networkError(where: string, err: unknown): SinkError {
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
