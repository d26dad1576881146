import { createHash, createHmac } from 'node:crypto';

/**
 * SLS request signature v1 (HMAC-SHA1), as LoongCollector, the Go SDK and the Node SDK compute it
 * (research/logtail-sls.md §3.4):
 *
 *   VERB \n CONTENT-MD5 \n CONTENT-TYPE \n DATE \n CanonicalizedLOGHeaders CanonicalizedResource
 *
 * CanonicalizedLOGHeaders: every `x-log-*` / `x-acs-*` header, name lower-cased, value trimmed, sorted by
 * name, each as `name:value\n`. CanonicalizedResource: the path, then `?` and the query sorted by name with
 * un-encoded values joined by `&`.
 */

/** Header names as sent; looked up case-insensitively. */
export type HeaderMap = Record<string, string>;

export function canonicalizedHeaders(headers: HeaderMap): string {
  const lines: [string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower.startsWith('x-log-') || lower.startsWith('x-acs-')) lines.push([lower, value.trim()]);
  }
  lines.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let out = '';
  for (const [name, value] of lines) out += `${name}:${value}\n`;
  return out;
}

/** `path` as sent (already escaped); `query` values un-encoded. */
export function canonicalizedResource(path: string, query?: Record<string, string>): string {
  if (!query) return path;
  const names = Object.keys(query).sort();
  if (names.length === 0) return path;
  return `${path}?${names.map((n) => `${n}=${query[n]}`).join('&')}`;
}

function header(headers: HeaderMap, name: string): string {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return '';
}

export function stringToSign(method: string, resource: string, headers: HeaderMap): string {
  return (
    `${method}\n${header(headers, 'content-md5')}\n${header(headers, 'content-type')}\n` +
    `${header(headers, 'date')}\n${canonicalizedHeaders(headers)}${resource}`
  );
}

export function signV1(accessKeySecret: string, method: string, resource: string, headers: HeaderMap): string {
  return createHmac('sha1', accessKeySecret).update(stringToSign(method, resource, headers), 'utf8').digest('base64');
}

/** The `Authorization` header value: `LOG {AccessKeyId}:{Signature}`. */
export function authorizationV1(
  accessKeyId: string,
  accessKeySecret: string,
  method: string,
  resource: string,
  headers: HeaderMap,
): string {
  return `LOG ${accessKeyId}:${signV1(accessKeySecret, method, resource, headers)}`;
}

/** `Content-MD5` as SLS wants it: upper-case hex (not base64 as in RFC 1864). */
export function contentMd5(body: Uint8Array): string {
  return createHash('md5').update(body).digest('hex').toUpperCase();
}

/** RFC 1123 date in GMT, the `Date` header SLS checks (±15 min). */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}
