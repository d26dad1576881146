/**
 * Targeted reads of an event's raw JSON without JSON.parse: the audit stages need a few top-level values
 * (auditID, stage, verb, user.username, objectRef.resource, responseStatus.code, the timestamps) and the byte
 * ranges of the bodies, on every event. The text was already validated as one JSON object by the parser, so this
 * walks the top level only, jumping over strings with indexOf and over nested values by bracket depth.
 *
 * Correct with escapes: a key holding a backslash is decoded (JSON.parse of that key alone), so `"verb"` written
 * as `"v\u0065rb"` is found; duplicate keys keep the last value, as JSON.parse does. Anything malformed throws a
 * SyntaxError (callers fall back to JSON.parse of the whole line). The top level of one event, read lazily or
 * from the parser's member table, is json-top.ts.
 */

/** A value's range [start, end) in the text. */
export interface Span {
  start: number;
  end: number;
}

export type FieldIndex = Map<string, Span>;

/** What the stages read fields through: a FieldIndex, or the lazy TopLevel. */
export interface Fields {
  get(key: string): Span | undefined;
}

/** JSON's structural characters as char codes (json-tail.ts reads the same text backwards). */
export const QUOTE = 34;
export const BACKSLASH = 92;
export const COMMA = 44;
export const COLON = 58;
export const OPEN_BRACE = 123;
export const CLOSE_BRACE = 125;
export const OPEN_BRACKET = 91;
export const CLOSE_BRACKET = 93;

export function skipWs(s: string, i: number): number {
  for (let c = s.charCodeAt(i); c === 32 || c === 10 || c === 13 || c === 9; c = s.charCodeAt(++i));
  return i;
}

/** Index just after the closing quote of the string whose opening quote is at i. */
export function stringEnd(s: string, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = s.indexOf('"', from);
    if (q < 0) throw new SyntaxError('unterminated string');
    let backslashes = 0;
    for (let b = q - 1; s.charCodeAt(b) === BACKSLASH; b--) backslashes++;
    if ((backslashes & 1) === 0) return q + 1;
    from = q + 1;
  }
}

/** Index just after the value that starts at i (string, object, array, number or literal). */
export function valueEnd(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === QUOTE) return stringEnd(s, i);
  if (c === OPEN_BRACE || c === OPEN_BRACKET) {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      const d = s.charCodeAt(j);
      if (d === QUOTE) j = stringEnd(s, j) - 1;
      else if (d === OPEN_BRACE || d === OPEN_BRACKET) depth++;
      else if (d === CLOSE_BRACE || d === CLOSE_BRACKET) {
        if (--depth === 0) return j + 1;
      }
    }
    throw new SyntaxError('unterminated object or array');
  }
  let end = i;
  for (let d = s.charCodeAt(end); d === d && d !== COMMA && d !== CLOSE_BRACE && d !== CLOSE_BRACKET && d !== 32 && d !== 10 && d !== 13 && d !== 9; d = s.charCodeAt(++end));
  if (end === i) throw new SyntaxError('expected a value');
  return end;
}

/** The keys of the object that starts at `at` (after whitespace) with their value ranges; throws if it is not an object. */
export function objectFields(s: string, at: number): FieldIndex {
  const out: FieldIndex = new Map();
  let i = skipWs(s, at);
  if (s.charCodeAt(i) !== OPEN_BRACE) throw new SyntaxError('not an object');
  i = skipWs(s, i + 1);
  if (s.charCodeAt(i) === CLOSE_BRACE) return out;
  for (;;) {
    if (s.charCodeAt(i) !== QUOTE) throw new SyntaxError('expected a key');
    const keyEnd = stringEnd(s, i);
    const key = decodeString(s, i, keyEnd);
    i = skipWs(s, keyEnd);
    if (s.charCodeAt(i) !== COLON) throw new SyntaxError('expected :');
    i = skipWs(s, i + 1);
    const end = valueEnd(s, i);
    out.set(key, { start: i, end });
    i = skipWs(s, end);
    const sep = s.charCodeAt(i);
    if (sep === CLOSE_BRACE) return out;
    if (sep !== COMMA) throw new SyntaxError('expected , or }');
    i = skipWs(s, i + 1);
  }
}

/** True when s[from, to) holds a backslash (bounded: never searches past `to`). */
export function hasEscape(s: string, from: number, to: number): boolean {
  for (let j = from; j < to; j++) if (s.charCodeAt(j) === BACKSLASH) return true;
  return false;
}

/** The string token s[i, end) as a JS string: a slice, or JSON.parse when it holds escapes. */
export function decodeString(s: string, i: number, end: number): string {
  const inner = s.slice(i + 1, end - 1);
  return inner.indexOf('\\') < 0 ? inner : (JSON.parse(s.slice(i, end)) as string);
}

/** The string value of a span, or undefined when the value there is not a string. */
export function spanString(s: string, span: Span | undefined): string | undefined {
  if (!span || s.charCodeAt(span.start) !== QUOTE) return undefined;
  return decodeString(s, span.start, span.end);
}

/** The number value of a span, or undefined when the value there is not a number. */
export function spanNumber(s: string, span: Span | undefined): number | undefined {
  if (!span) return undefined;
  const c = s.charCodeAt(span.start);
  if (!(c === 45 || (c >= 48 && c <= 57))) return undefined;
  const n = Number(s.slice(span.start, span.end));
  return Number.isFinite(n) ? n : undefined;
}

/** True when the value of the span is an object. */
export function isObjectSpan(s: string, span: Span | undefined): boolean {
  return span !== undefined && s.charCodeAt(span.start) === OPEN_BRACE;
}

/**
 * The span of `key` in the object that starts at `at`, first occurrence, without building an index: for the
 * small nested objects read on every event (user, objectRef, responseStatus). Undefined when absent.
 */
export function findKey(s: string, at: number, key: string): Span | undefined {
  let i = skipWs(s, at);
  if (s.charCodeAt(i) !== OPEN_BRACE) return undefined;
  i = skipWs(s, i + 1);
  if (s.charCodeAt(i) === CLOSE_BRACE) return undefined;
  for (;;) {
    if (s.charCodeAt(i) !== QUOTE) throw new SyntaxError('expected a key');
    const keyEnd = stringEnd(s, i);
    // compare without decoding when the key has no escape (the usual case)
    const hit = keyEnd - i - 2 === key.length && s.startsWith(key, i + 1) ? true : hasEscape(s, i + 1, keyEnd - 1) && decodeString(s, i, keyEnd) === key;
    i = skipWs(s, keyEnd);
    if (s.charCodeAt(i) !== COLON) throw new SyntaxError('expected :');
    i = skipWs(s, i + 1);
    const end = valueEnd(s, i);
    if (hit) return { start: i, end };
    i = skipWs(s, end);
    const sep = s.charCodeAt(i);
    if (sep === CLOSE_BRACE) return undefined;
    if (sep !== COMMA) throw new SyntaxError('expected , or }');
    i = skipWs(s, i + 1);
  }
}

/** A string field of a nested object: `nestedString(raw, top.get('user'), 'username')`; undefined when absent or not a string. */
export function nestedString(s: string, span: Span | undefined, key: string): string | undefined {
  if (!isObjectSpan(s, span)) return undefined;
  return spanString(s, findKey(s, span!.start, key));
}

/**
 * Several string fields of a nested object in one walk of it (first occurrence of each, as findKey); undefined
 * for a key absent or not a string, and all undefined when the span is not an object.
 */
export function nestedStrings(s: string, span: Span | undefined, keys: readonly string[]): Array<string | undefined> {
  const out: Array<string | undefined> = keys.map(() => undefined);
  if (!isObjectSpan(s, span)) return out;
  const seen = keys.map(() => false);
  let left = keys.length;
  let i = skipWs(s, span!.start + 1);
  if (s.charCodeAt(i) === CLOSE_BRACE) return out;
  for (;;) {
    if (s.charCodeAt(i) !== QUOTE) throw new SyntaxError('expected a key');
    const keyEnd = stringEnd(s, i);
    const len = keyEnd - i - 2;
    let hit = -1;
    const decoded = hasEscape(s, i + 1, keyEnd - 1) ? decodeString(s, i, keyEnd) : undefined;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      if (!seen[k] && (decoded === undefined ? len === key.length && s.startsWith(key, i + 1) : decoded === key)) {
        hit = k;
        break;
      }
    }
    i = skipWs(s, keyEnd);
    if (s.charCodeAt(i) !== COLON) throw new SyntaxError('expected :');
    i = skipWs(s, i + 1);
    const end = valueEnd(s, i);
    if (hit >= 0) {
      seen[hit] = true;
      out[hit] = spanString(s, { start: i, end });
      if (--left === 0) return out;
    }
    i = skipWs(s, end);
    const sep = s.charCodeAt(i);
    if (sep === CLOSE_BRACE) return out;
    if (sep !== COMMA) throw new SyntaxError('expected , or }');
    i = skipWs(s, i + 1);
  }
}

/** A number field of a nested object; undefined when absent or not a number. */
export function nestedNumber(s: string, span: Span | undefined, key: string): number | undefined {
  if (!isObjectSpan(s, span)) return undefined;
  return spanNumber(s, findKey(s, span!.start, key));
}

/** The text with the values of some top-level spans replaced (spans must not overlap). */
export function spliceSpans(s: string, edits: Array<{ span: Span; text: string }>): string {
  if (edits.length === 0) return s;
  const sorted = [...edits].sort((a, b) => a.span.start - b.span.start);
  let out = '';
  let at = 0;
  for (const e of sorted) {
    out += s.slice(at, e.span.start) + e.text;
    at = e.span.end;
  }
  return out + s.slice(at);
}
