import { isSecretName } from '../observe/log.js';

// The one rule for printing a sink URI (`tailship config`, usage errors, refused URIs): never a secret.

const MASK = '***';

/**
 * A sink URI as it may be printed: user info (a password) replaced by `***`, and the values of `header.*` and of
 * secret-looking query parameters (token, key, auth, password, credential, signature…) replaced by `***`. Other
 * parameters (`?project=`, `?gzip=`) stay readable. Works on text that is not a valid URL too.
 */
export function maskSinkUri(uri: string): string {
  const q = uri.indexOf('?');
  let base = q < 0 ? uri : uri.slice(0, q);
  base = base.replace(/\/\/[^/@]*@/, `//${MASK}@`);
  if (q < 0) return base;
  const params = uri
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      return isSecretParam(safeDecode(pair.slice(0, eq))) ? `${pair.slice(0, eq)}=${MASK}` : pair;
    });
  return `${base}?${params.join('&')}`;
}

function isSecretParam(name: string): boolean {
  return name.toLowerCase().startsWith('header.') || isSecretName(name) || /auth|pass|cred|sig/i.test(name);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}
