import { createHmac } from 'node:crypto';

/**
 * What replaces a redacted value, and the record of where values were replaced (for the `__redacted__` tag).
 * Sites are field paths without values (`responseObject.data`, `requestURI.token`); a field whose shape was not
 * what it should be is replaced whole and its site ends in `:whole`.
 */
export interface Masker {
  /** `[REDACTED]`, or `hmac-sha256:` + hex of the value (keyed), so that equal values stay comparable. */
  mask(value: string): string;
  note(site: string): void;
}

export const REDACTED = '[REDACTED]';

export function maskFunction(key: Buffer | undefined): (value: string) => string {
  if (!key) return () => REDACTED;
  return (value) => `hmac-sha256:${createHmac('sha256', key).update(value, 'utf8').digest('hex')}`;
}

/** A value that is not a string is masked as its JSON text: a string either way, so no shape of it survives. */
export function maskAny(m: Masker, value: unknown): string {
  return m.mask(typeof value === 'string' ? value : JSON.stringify(value) ?? String(value));
}

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Copy-on-write: the object with one key set, copying it the first time only. */
export function withKey(orig: Obj, cur: Obj, key: string, value: unknown): Obj {
  const out = cur === orig ? { ...orig } : cur;
  out[key] = value;
  return out;
}
