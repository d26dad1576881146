// Skipping JSON values in text already validated as JSON (src/parse/parse-line.ts), for the policy scan: no
// decoding except of a string asked for; -1 where the text ends early or a key would need decoding.

export function skipWs(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else return i;
  }
}

/**
 * `i` at an opening quote; returns the index past the closing quote (-1 if none): the first quote after an even
 * number of backslashes. One native search per quote, whatever the escapes in between (`\n` costs nothing).
 */
export function stringEnd(s: string, i: number): number {
  let q = s.indexOf('"', i + 1);
  while (q !== -1 && s.charCodeAt(q - 1) === 0x5c) {
    let k = q - 2;
    while (s.charCodeAt(k) === 0x5c) k--;
    if (((q - 1 - k) & 1) === 0) break; // an even run of backslashes: they escape each other, not the quote
    q = s.indexOf('"', q + 1);
  }
  return q === -1 ? -1 : q + 1;
}

/** The decoded string whose token is s[start, end) (quotes included). */
export function stringValue(s: string, start: number, end: number): string {
  const v = s.slice(start + 1, end - 1);
  return v.indexOf('\\') === -1 ? v : (JSON.parse(s.slice(start, end)) as string);
}

/** The key s[ks, ke) holds a backslash (keys are short: a bounded look). */
export function keyHasEscape(s: string, ks: number, ke: number): boolean {
  for (let k = ks + 1; k < ke - 1; k++) if (s.charCodeAt(k) === 0x5c) return true;
  return false;
}

/** `i` at a value; returns the index past it. */
export function skipValue(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === 0x22) return stringEnd(s, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (;;) {
      const d = s.charCodeAt(i);
      if (d === 0x22) {
        i = stringEnd(s, i);
        if (i < 0) return -1;
        continue;
      }
      if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        if (--depth === 0) return i + 1;
      } else if (Number.isNaN(d)) return -1;
      i++;
    }
  }
  // number, true, false, null
  for (;;) {
    const d = s.charCodeAt(i);
    if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09 || Number.isNaN(d)) return i;
    i++;
  }
}

/** Reads a string value at `i` into `out[0]` ('' when the value is not a string); returns the index past it. */

/** Calls `onKey(keyStart, keyEnd, valueStart)` for each member of the object at `i`; it returns the value's end. */
export function eachMember(s: string, i: number, onKey: (ks: number, ke: number, vs: number) => number): number {
  i = skipWs(s, i + 1);
  if (s.charCodeAt(i) === 0x7d) return i + 1;
  for (;;) {
    if (s.charCodeAt(i) !== 0x22) return -1;
    const ks = i;
    const ke = stringEnd(s, i);
    if (ke < 0 || keyHasEscape(s, ks, ke)) return -1;
    i = skipWs(s, ke);
    if (s.charCodeAt(i) !== 0x3a) return -1;
    i = onKey(ks, ke, skipWs(s, i + 1));
    if (i < 0) return -1;
    i = skipWs(s, i);
    const c = s.charCodeAt(i);
    if (c === 0x2c) i = skipWs(s, i + 1);
    else if (c === 0x7d) return i + 1;
    else return -1;
  }
}

/** The key s[ks, ke) (quotes included, no escapes) equals `name`. */
export function isKey(s: string, ks: number, ke: number, name: string): boolean {
  return ke - ks === name.length + 2 && s.startsWith(name, ks + 1);
}
