/**
 * Targeted reads of an event's raw JSON without JSON.parse: the audit stages need a few top-level values
 * (auditID, stage, verb, user.username, objectRef.resource, responseStatus.code, the timestamps) and the byte
 * ranges of the bodies, on every event. The text was already validated as one JSON object by the parser, so this
 * walks the top level only, jumping over strings with indexOf and over nested values by bracket depth.
 *
 * Correct with escapes: a key holding a backslash is decoded (JSON.parse of that key alone), so `"verb"` written
 * as `"v\u0065rb"` is found; duplicate keys keep the last value, as JSON.parse does. Anything malformed throws a
 * SyntaxError (callers fall back to JSON.parse of the whole line).
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

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

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
function hasEscape(s: string, from: number, to: number): boolean {
  for (let j = from; j < to; j++) if (s.charCodeAt(j) === BACKSLASH) return true;
  return false;
}

/** The string token s[i, end) as a JS string: a slice, or JSON.parse when it holds escapes. */
export function decodeString(s: string, i: number, end: number): string {
  const inner = s.slice(i + 1, end - 1);
  return inner.indexOf('\\') < 0 ? inner : (JSON.parse(s.slice(i, end)) as string);
}

/**
 * A lazy scan of an event's top level: keys are read in text order only as far as a lookup needs, and the scan
 * resumes where it stopped for the next lookup. In the API server's field order the small keys (auditID, stage,
 * verb, user, objectRef, responseStatus) come before the bodies, so most lookups never walk a body. A key that
 * appears twice keeps its first value (the API server never writes one twice).
 */
export class TopLevel {
  readonly index: FieldIndex = new Map();
  #pos: number;
  #done = false;

  constructor(
    readonly raw: string,
    at = 0,
  ) {
    const i = skipWs(raw, at);
    if (raw.charCodeAt(i) !== OPEN_BRACE) throw new SyntaxError('not an object');
    this.#pos = skipWs(raw, i + 1);
    if (raw.charCodeAt(this.#pos) === CLOSE_BRACE) this.#done = true;
  }

  /** The span of a top-level key's value, or undefined when the object has no such key. */
  get(key: string): Span | undefined {
    const have = this.index.get(key);
    if (have || this.#done) return have;
    const s = this.raw;
    let i = this.#pos;
    for (;;) {
      if (s.charCodeAt(i) !== QUOTE) throw new SyntaxError('expected a key');
      const keyEnd = stringEnd(s, i);
      const k = decodeString(s, i, keyEnd);
      i = skipWs(s, keyEnd);
      if (s.charCodeAt(i) !== COLON) throw new SyntaxError('expected :');
      i = skipWs(s, i + 1);
      const end = valueEnd(s, i);
      const span = { start: i, end };
      if (!this.index.has(k)) this.index.set(k, span);
      i = skipWs(s, end);
      const sep = s.charCodeAt(i);
      if (sep === CLOSE_BRACE) this.#done = true;
      else if (sep !== COMMA) throw new SyntaxError('expected , or }');
      else i = skipWs(s, i + 1);
      this.#pos = i;
      if (k === key) return this.index.get(k);
      if (this.#done) return undefined;
    }
  }

  /** Every key, in order (scans to the end). */
  all(): FieldIndex {
    this.get('\u0000 none');
    return this.index;
  }
}

let lastRaw: string | undefined;
let lastTop: TopLevel | undefined;

/**
 * The top level of an event's raw text, or undefined when it is not one JSON object. The last one is kept: the
 * stages of one event (metrics, redact, trim, identity) share one scan. Lookups throw SyntaxError on malformed
 * text (never for a line the parser accepted as an object).
 */
export function topFields(raw: string): TopLevel | undefined {
  if (raw === lastRaw) return lastTop;
  let top: TopLevel | undefined;
  try {
    top = new TopLevel(raw);
  } catch {
    top = undefined;
  }
  lastRaw = raw;
  lastTop = top;
  return top;
}

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
