/**
 * A JSON object line → SLS contents (alternating key, value strings), the k8s-audit logstore shape of
 * logtail's JSON mode (research/logtail-sls.md §4.1): every top-level key; string values unescaped; `null` as
 * an empty string (as logtail); objects, arrays, numbers and booleans as compact JSON text.
 *
 * Two ways to the same result:
 * - scanContents walks the top level of the line and slices each nested value out of it as it is. The line
 *   was already validated as one JSON object when it was read, and the audit backend writes compact JSON, so
 *   the slice is the compact JSON text; nothing nested is parsed or re-serialised. About 3.5× faster than
 *   parse + stringify on real audit events (test/unit/sls/encode-bench.mjs). A nested value holding
 *   whitespace is re-serialised compactly; numbers keep their exact digits (no float rounding).
 * - parseContents: JSON.parse + JSON.stringify, used when the scanner meets anything unexpected.
 *
 * Duplicate keys keep the last value at the first key's place, as JSON.parse does. `__time__` and `__tag__` are
 * dropped, as in the file/http rendering: the log's own time and tags take their place.
 */

import { decodeString, skipWs, stringEnd } from '../../../audit/json-scan.js';

/** Contents of a JSON object line, or undefined when the line is not one JSON object. */
export function jsonContents(raw: string): string[] | undefined {
  try {
    return scanContents(raw);
  } catch {
    return parseContents(raw);
  }
}

export function parseContents(raw: string): string[] | undefined {
  let obj: unknown;
  try {
    obj = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const rec = obj as Record<string, unknown>;
  const kv: string[] = [];
  for (const key in rec) {
    if (key === '__time__' || key === '__tag__') continue;
    const v = rec[key];
    kv.push(key, typeof v === 'string' ? v : v === null ? '' : JSON.stringify(v));
  }
  return kv;
}

const QUOTE = 34;
const COMMA = 44;
const COLON = 58;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

function isWs(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/** Index just after the object or array that starts at i; `ws` tells whether whitespace was seen outside strings. */
function compositeEnd(s: string, i: number, seen: { ws: boolean }): number {
  let depth = 0;
  for (let j = i; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === QUOTE) j = stringEnd(s, j) - 1;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (--depth === 0) return j + 1;
    } else if (isWs(c)) seen.ws = true;
  }
  throw new SyntaxError('unterminated object or array');
}

/** Throws SyntaxError on anything that is not the expected shape (the caller falls back to JSON.parse). */
export function scanContents(s: string): string[] {
  const kv: string[] = [];
  let i = skipWs(s, 0);
  if (s.charCodeAt(i) !== OPEN_BRACE) throw new SyntaxError('not an object');
  i = skipWs(s, i + 1);
  if (s.charCodeAt(i) === CLOSE_BRACE) return endOfLine(s, i + 1, kv);
  const seen = { ws: false };
  let index: Map<string, number> | undefined;
  for (;;) {
    if (s.charCodeAt(i) !== QUOTE) throw new SyntaxError('expected a key');
    const keyEnd = stringEnd(s, i);
    const key = decodeString(s, i, keyEnd);
    i = skipWs(s, keyEnd);
    if (s.charCodeAt(i) !== COLON) throw new SyntaxError('expected :');
    i = skipWs(s, i + 1);
    const c = s.charCodeAt(i);
    let end: number;
    let value: string;
    if (c === QUOTE) {
      end = stringEnd(s, i);
      value = decodeString(s, i, end);
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      seen.ws = false;
      end = compositeEnd(s, i, seen);
      value = s.slice(i, end);
      if (seen.ws) value = JSON.stringify(JSON.parse(value));
    } else {
      end = i;
      for (let d = s.charCodeAt(end); d === d && d !== COMMA && d !== CLOSE_BRACE && !isWs(d); d = s.charCodeAt(++end));
      if (end === i) throw new SyntaxError('expected a value');
      value = s.slice(i, end);
      if (value === 'null') value = '';
    }
    if (key !== '__time__' && key !== '__tag__') index = put(kv, key, value, index);
    i = skipWs(s, end);
    const sep = s.charCodeAt(i);
    if (sep === CLOSE_BRACE) return endOfLine(s, i + 1, kv);
    if (sep !== COMMA) throw new SyntaxError('expected , or }');
    i = skipWs(s, i + 1);
  }
}

function endOfLine(s: string, i: number, kv: string[]): string[] {
  if (skipWs(s, i) !== s.length) throw new SyntaxError('text after the object');
  return kv;
}

/** Past this many keys, duplicates are found through a Map instead of a linear search. */
const LINEAR_KEYS = 32;

/**
 * Appends key/value, or replaces the value of an earlier equal key (JSON.parse keeps the last one). Returns
 * the key index, built once an object has many keys so that a line with huge numbers of keys stays linear.
 */
function put(kv: string[], key: string, value: string, index: Map<string, number> | undefined): Map<string, number> | undefined {
  if (!index && kv.length < LINEAR_KEYS * 2) {
    for (let j = 0; j < kv.length; j += 2) {
      if (kv[j] === key) {
        kv[j + 1] = value;
        return undefined;
      }
    }
    kv.push(key, value);
    return undefined;
  }
  if (!index) {
    index = new Map();
    for (let j = 0; j < kv.length; j += 2) index.set(kv[j]!, j);
  }
  const at = index.get(key);
  if (at !== undefined) kv[at + 1] = value;
  else {
    index.set(key, kv.length);
    kv.push(key, value);
  }
  return index;
}
