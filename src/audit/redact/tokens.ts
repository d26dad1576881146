import { isObj, maskAny, type Masker, type Obj } from './masker.js';

/**
 * `--redact tokens` (SPEC §6): `spec.token` of a TokenReview, `status.token` of a TokenRequest, and the value of
 * any `token` / `access_token` / `id_token` query parameter of `requestURI`.
 */

export const TOKEN_PARAMS = new Set(['token', 'access_token', 'id_token']);

/** Masks `body[part].token`; a `part` that is not an object, or a token that is not a string, is masked whole. */
export function redactTokenField(body: unknown, part: 'spec' | 'status', m: Masker, site: string): unknown {
  if (body === null || body === undefined) return body;
  if (!isObj(body)) {
    m.note(`${site}:whole`);
    return maskAny(m, body);
  }
  if (!(part in body) || body[part] === null || body[part] === undefined) return body;
  const inner = body[part];
  if (!isObj(inner)) {
    m.note(`${site}.${part}:whole`);
    return { ...body, [part]: maskAny(m, inner) };
  }
  if (!('token' in inner) || inner.token === null || inner.token === '') return body;
  const token = inner.token;
  m.note(typeof token === 'string' ? `${site}.${part}.token` : `${site}.${part}.token:whole`);
  const next: Obj = { ...inner, token: maskAny(m, token) };
  return { ...body, [part]: next };
}

/** Decodes a query parameter name as Go's url.ParseQuery does (`+` is a space); undefined when malformed. */
function paramName(raw: string): string | undefined {
  if (raw.indexOf('%') < 0 && raw.indexOf('+') < 0) return raw;
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * The URI with the values of token parameters masked (the value as it stands in the URI, still percent-encoded).
 * A parameter whose name cannot be decoded is masked too: it might spell `token`.
 */
export function redactUriTokens(uri: string, m: Masker): string {
  const q = uri.indexOf('?');
  if (q < 0) return uri;
  const hash = uri.indexOf('#', q);
  const query = hash < 0 ? uri.slice(q + 1) : uri.slice(q + 1, hash);
  let changed = false;
  const parts = query.split('&').map((p) => {
    const eq = p.indexOf('=');
    if (eq < 0) return p;
    const name = paramName(p.slice(0, eq));
    if (name !== undefined && !TOKEN_PARAMS.has(name)) return p;
    const value = p.slice(eq + 1);
    if (value === '') return p;
    changed = true;
    m.note(name === undefined ? 'requestURI.query:whole' : `requestURI.${name}`);
    return `${p.slice(0, eq)}=${m.mask(value)}`;
  });
  if (!changed) return uri;
  return `${uri.slice(0, q + 1)}${parts.join('&')}${hash < 0 ? '' : uri.slice(hash)}`;
}

/** Cheap test before the split: can this URI hold a token parameter at all? */
export function mayHoldTokenParam(uri: string): boolean {
  const q = uri.indexOf('?');
  if (q < 0) return false;
  return uri.indexOf('token', q) >= 0 || uri.indexOf('%', q) >= 0 || uri.indexOf('+', q) >= 0;
}
