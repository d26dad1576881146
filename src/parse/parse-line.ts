import type { ShipEvent } from './ship-event.js';
import { scanned, startMember } from './top-members.js';

/**
 * A line becomes a ShipEvent here and nowhere else. JSON inputs are parsed once to validate the line and take
 * its time; the parsed object is dropped again (sinks render from `raw`), keeping batches at raw size.
 */
export function parseLine(text: string, truncated: boolean, json: boolean, nowMs: number): ShipEvent {
  if (truncated) {
    return { raw: text, isObject: false, ...splitTime(nowMs), markers: { __truncated__: 'true' } };
  }
  if (!json) return { raw: text, isObject: false, ...splitTime(nowMs) };
  if (scanObject(text)) {
    scanned.raw = text; // the member table now describes this line (top-members.ts)
    scanned.gen++;
    // Valid, and the time keys were read by the scan: the same answer as below, without building the object.
    const t = eventTime(foundStage) ?? eventTime(foundReceived) ?? splitTime(nowMs);
    return { raw: text, isObject: true, time: t.time, timeNs: t.timeNs };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return invalid(text, nowMs, `invalid JSON: ${(e as Error).message}`.slice(0, 200));
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return invalid(text, nowMs, `not a JSON object (${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value})`);
  }
  const obj = value as Record<string, unknown>;
  const t = eventTime(obj.stageTimestamp) ?? eventTime(obj.requestReceivedTimestamp);
  return { raw: text, isObject: true, ...(t ?? splitTime(nowMs)) };
}

function invalid(text: string, nowMs: number, reason: string): ShipEvent {
  return { raw: text, isObject: false, ...splitTime(nowMs), markers: { __parse_error__: reason } };
}

function splitTime(ms: number): { time: number; timeNs: number } {
  const time = Math.floor(ms / 1000);
  return { time, timeNs: Math.round((ms - time * 1000) * 1e6) };
}

/** RFC 3339 with up to nanosecond digits (`2019-05-08T12:46:52.812735Z`), keeping the sub-millisecond part. */
export function eventTime(v: unknown): { time: number; timeNs: number } | undefined {
  if (typeof v !== 'string') return undefined;
  const fast = rfc3339Utc(v);
  if (fast !== undefined) return fast;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) return undefined;
  const time = Math.floor(ms / 1000);
  const frac = /\.(\d+)/.exec(v);
  const timeNs = frac ? Number((frac[1]! + '000000000').slice(0, 9)) : 0;
  return { time, timeNs };
}

/**
 * The API server's own format, `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` (years 1970-9999, ordinary field ranges), read
 * without Date.parse and the regex: the same result as the general path below, or undefined for it to decide.
 */
function rfc3339Utc(v: string): { time: number; timeNs: number } | undefined {
  const n = v.length;
  if (n < 20 || n > 30 || v.charCodeAt(n - 1) !== 0x5a /* Z */) return undefined;
  if (v.charCodeAt(4) !== 0x2d || v.charCodeAt(7) !== 0x2d || v.charCodeAt(10) !== 0x54 || v.charCodeAt(13) !== 0x3a || v.charCodeAt(16) !== 0x3a) return undefined;
  const year = digits(v, 0, 4);
  const month = digits(v, 5, 2);
  const day = digits(v, 8, 2);
  const hour = digits(v, 11, 2);
  const minute = digits(v, 14, 2);
  const second = digits(v, 17, 2);
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  let timeNs = 0;
  if (n > 20) {
    if (v.charCodeAt(19) !== 0x2e || n === 21) return undefined; // `.` and at least one digit
    const frac = digits(v, 20, n - 21);
    if (frac < 0) return undefined;
    timeNs = frac * POW10[30 - n]!; // 9 - (n - 21) missing digits
  }
  return { time: Date.UTC(year, month - 1, day, hour, minute, second) / 1000, timeNs };
}

/** 10 ** k for the missing fraction digits: `**` with a variable exponent is a call to pow(). */
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8];

/** The decimal value of `len` digits at `at`, or -1 when one is not a digit. */
function digits(s: string, at: number, len: number): number {
  let x = 0;
  for (let i = at; i < at + len; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    x = x * 10 + d;
  }
  return x;
}

// ---- a validating scan: JSON.parse's verdict without building the object ----------------------------------
//
// JSON.parse of every line was half of the agent's main-thread time, and the object it builds is garbage at
// once. scanObject walks the text once (RFC 8259 grammar, as V8's JSON.parse accepts it: no depth limit,
// whitespace = space, tab, CR, LF) and notes the top-level `stageTimestamp` / `requestReceivedTimestamp`
// string values (the last one wins, as in JSON.parse). It answers true only when the text is one JSON object
// and those values are plain strings; anything else (invalid JSON, an array, escapes in a time key or value)
// goes to JSON.parse, which gives the exact error message and the decoded values.

/** Set by scanObject: the raw top-level time values when they are strings without escapes, else undefined. */
let foundStage: string | undefined;
let foundReceived: string | undefined;
/** Open containers of the scan: 1 object, 2 array (reused across calls). */
const stack: number[] = [];
/** Set by scanString: the string just scanned held a backslash escape. */
let hadEscape = false;

const OBJ = 1;
const ARR = 2;
const KEY_STAGE = 'stageTimestamp';
const KEY_RECEIVED = 'requestReceivedTimestamp';

/**
 * `s.charCodeAt(i)`, or -1 past the end. Every line's scan reads one past its end (the whitespace after the
 * closing brace); an out-of-bounds charCodeAt deoptimises the function, and V8 then calls the builtin at that
 * site for good instead of inlining it (4 % of the steady main thread). -1 compares like NaN below.
 */
function at(s: string, i: number): number {
  return i < s.length ? s.charCodeAt(i) : -1;
}

function skipWs(s: string, i: number): number {
  for (;;) {
    const c = at(s, i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else return i;
  }
}

/** Raw control characters (invalid inside strings; tab and CR are only valid between tokens): such a rare line
 *  goes to JSON.parse, so that strings can be skipped with native searches below. */
const CONTROL = /[\u0000-\u001f]/;
/** Index of the next backslash at or after the scan position (-1: none left): escapes are found by search too. */
let nextBackslash = -1;

/**
 * `i` is just past the opening quote; returns the index past the closing quote, or -1 when invalid.
 * Linear in the string's length whatever its escapes: the quote is searched again only when an escape used it.
 */
function scanString(s: string, i: number): number {
  hadEscape = false;
  let q = s.indexOf('"', i);
  for (;;) {
    if (q === -1) return -1;
    if (nextBackslash === -1 || nextBackslash > q) return q + 1;
    // an escape before the quote: check it, then go on after it
    hadEscape = true;
    i = nextBackslash + 1;
    const e = at(s, i++);
    if (e === 0x75) {
      for (const end = i + 4; i < end; i++) {
        const h = at(s, i);
        if (!((h >= 0x30 && h <= 0x39) || (h >= 0x61 && h <= 0x66) || (h >= 0x41 && h <= 0x46))) return -1;
      }
    } else if (!(e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74)) {
      return -1;
    }
    nextBackslash = s.indexOf('\\', i);
    if (q < i) q = s.indexOf('"', i); // the quote found was the escaped one
  }
}

function scanDigits(s: string, i: number): number {
  let c = at(s, i);
  while (c >= 0x30 && c <= 0x39) c = at(s, ++i);
  return i;
}

/** `i` is at the first character of a number; returns the index past it, or -1. */
function scanNumber(s: string, i: number): number {
  if (at(s, i) === 0x2d) i++;
  const c = at(s, i);
  if (c === 0x30) i++;
  else if (c >= 0x31 && c <= 0x39) i = scanDigits(s, i + 1);
  else return -1;
  if (at(s, i) === 0x2e) {
    const d = at(s, ++i);
    if (!(d >= 0x30 && d <= 0x39)) return -1;
    i = scanDigits(s, i);
  }
  const e = at(s, i);
  if (e === 0x65 || e === 0x45) {
    const sign = at(s, ++i);
    if (sign === 0x2b || sign === 0x2d) i++;
    const d = at(s, i);
    if (!(d >= 0x30 && d <= 0x39)) return -1;
    i = scanDigits(s, i);
  }
  return i;
}

/** True when `s` is one JSON object whose top-level time values (if any) are strings without escapes. */
function scanObject(s: string): boolean {
  foundStage = undefined;
  foundReceived = undefined;
  scanned.raw = undefined;
  scanned.count = 0;
  if (CONTROL.test(s)) return false;
  nextBackslash = s.indexOf('\\');
  let i = skipWs(s, 0);
  if (at(s, i) !== 0x7b) return false;
  let depth = 0;
  /** Which time key the value being scanned belongs to (top level only): 0 none, 1 stage, 2 received. */
  let timeKey = 0;
  for (;;) {
    // ---- a value starts at i
    const c = at(s, i);
    if (timeKey !== 0 && c !== 0x22) {
      // the last occurrence wins: a value that is not a string means JSON.parse's object has no string there
      if (timeKey === 1) foundStage = undefined;
      else foundReceived = undefined;
    }
    let openedEmpty = false;
    if (c === 0x7b || c === 0x5b) {
      const close = c === 0x7b ? 0x7d : 0x5d;
      i = skipWs(s, i + 1);
      if (at(s, i) === close) {
        i++;
        openedEmpty = true;
      } else {
        stack[depth++] = c === 0x7b ? OBJ : ARR;
        if (c === 0x7b) {
          i = scanKey(s, i, depth);
          if (i < 0) return false;
          timeKey = keyKind;
        } else timeKey = 0;
        continue;
      }
    } else if (c === 0x22) {
      const start = i + 1;
      i = scanString(s, start);
      if (i < 0) return false;
      if (timeKey !== 0) {
        if (hadEscape) return false; // let JSON.parse decode it
        if (timeKey === 1) foundStage = s.slice(start, i - 1);
        else foundReceived = s.slice(start, i - 1);
      }
    } else {
      if (c === 0x74 && s.startsWith('true', i)) i += 4;
      else if (c === 0x66 && s.startsWith('false', i)) i += 5;
      else if (c === 0x6e && s.startsWith('null', i)) i += 4;
      else {
        i = scanNumber(s, i);
        if (i < 0) return false;
      }
    }
    if (openedEmpty && depth === 0) return skipWs(s, i) === s.length;
    // ---- after a value: `,` or the end of containers
    for (;;) {
      if (depth === 1) scanned.spans[scanned.count * 4 - 1] = i; // a top-level member's value ends here
      i = skipWs(s, i);
      const d = at(s, i);
      const top = stack[depth - 1];
      if (d === 0x2c) {
        i = skipWs(s, i + 1);
        if (top === OBJ) {
          i = scanKey(s, i, depth);
          if (i < 0) return false;
          timeKey = keyKind;
        } else timeKey = 0;
        break;
      }
      if ((top === OBJ && d === 0x7d) || (top === ARR && d === 0x5d)) {
        i++;
        if (--depth === 0) return skipWs(s, i) === s.length;
        continue;
      }
      return false;
    }
  }
}

/** Set by scanKey: 1 / 2 when the key is a top-level time key, else 0. */
let keyKind = 0;

/** `i` is at a key's opening quote in an object at `depth`; returns the index of its value, or -1. */
function scanKey(s: string, i: number, depth: number): number {
  keyKind = 0;
  if (at(s, i) !== 0x22) return -1;
  const start = i + 1;
  i = scanString(s, start);
  if (i < 0) return -1;
  const keyEnd = i;
  if (depth === 1) {
    if (hadEscape) return -1; // an escaped key might spell a time key: JSON.parse decides
    const len = i - 1 - start;
    if (len === KEY_STAGE.length && s.startsWith(KEY_STAGE, start)) keyKind = 1;
    else if (len === KEY_RECEIVED.length && s.startsWith(KEY_RECEIVED, start)) keyKind = 2;
  }
  i = skipWs(s, i);
  if (at(s, i) !== 0x3a) return -1;
  i = skipWs(s, i + 1);
  if (depth === 1) startMember(start - 1, keyEnd, i);
  return i;
}
