/**
 * Reading an event's last top-level members from the end of its text: the API server writes the timestamps and
 * annotations after the bodies, which may be megabytes, so a forward walk would cross them first.
 */

import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COLON, COMMA, decodeString, OPEN_BRACE, OPEN_BRACKET, QUOTE } from './json-scan.js';

/**
 * The string value of a top-level key, scanning backwards from the end of the text: for keys the API server
 * writes last (requestReceivedTimestamp, stageTimestamp, annotations), after bodies that may be megabytes.
 * Gives the last occurrence (as JSON.parse). Looks at most `maxKeys` keys from the end; undefined when not found.
 */
export function tailStrings(raw: string, keys: readonly string[], maxKeys = 6): Array<string | undefined> {
  const out: Array<string | undefined> = keys.map(() => undefined);
  let found = 0;
  let i = raw.length - 1;
  const back = (j: number): number => {
    for (let c = raw.charCodeAt(j); c === 32 || c === 10 || c === 13 || c === 9; c = raw.charCodeAt(--j));
    return j;
  };
  i = back(i);
  if (raw.charCodeAt(i) !== CLOSE_BRACE) return out;
  i = back(i - 1);
  for (let n = 0; n < maxKeys && found < keys.length; n++) {
    // the value ends at i
    const vEnd = i + 1;
    const c = raw.charCodeAt(i);
    let vStart: number;
    if (c === QUOTE) vStart = stringStartBack(raw, i);
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) vStart = compositeStartBack(raw, i);
    else {
      vStart = i;
      for (let d = raw.charCodeAt(vStart - 1); d !== COLON && d !== 32 && d !== 10 && d !== 13 && d !== 9; d = raw.charCodeAt(--vStart - 1)) if (vStart <= 0) return out;
    }
    i = back(vStart - 1);
    if (raw.charCodeAt(i) !== COLON) return out;
    i = back(i - 1);
    if (raw.charCodeAt(i) !== QUOTE) return out;
    const kStart = stringStartBack(raw, i);
    const key = decodeString(raw, kStart, i + 1);
    const at = keys.indexOf(key);
    if (at >= 0 && out[at] === undefined) {
      if (raw.charCodeAt(vStart) === QUOTE) out[at] = decodeString(raw, vStart, vEnd);
      found++;
    }
    i = back(kStart - 1);
    const sep = raw.charCodeAt(i);
    if (sep !== COMMA) return out; // the opening brace: no more keys
    i = back(i - 1);
  }
  return out;
}

/** Index of the opening quote of the string whose closing quote is at q. */
function stringStartBack(s: string, q: number): number {
  let from = q - 1;
  for (;;) {
    const p = s.lastIndexOf('"', from);
    if (p < 0) throw new SyntaxError('unterminated string');
    let backslashes = 0;
    for (let b = p - 1; s.charCodeAt(b) === BACKSLASH; b--) backslashes++;
    if ((backslashes & 1) === 0) return p;
    from = p - 1;
  }
}

/** Index of the bracket that opens the object or array closed at i. */
function compositeStartBack(s: string, i: number): number {
  let depth = 0;
  for (let j = i; j >= 0; j--) {
    const d = s.charCodeAt(j);
    if (d === QUOTE) j = stringStartBack(s, j);
    else if (d === CLOSE_BRACE || d === CLOSE_BRACKET) depth++;
    else if (d === OPEN_BRACE || d === OPEN_BRACKET) {
      if (--depth === 0) return j;
    }
  }
  throw new SyntaxError('unbalanced');
}

