/**
 * The top level of one event's text for the audit stages: read from the parser's member table while it
 * describes that text (the line just parsed), else by a lazy walk (TopLevel). The stages of one event share the
 * last one (`topFields`).
 */

import { memberIndex, memberKeyLength, memberKeyStart, memberValueEnd, memberValueStart, scanned } from '../parse/top-members.js';
import { CLOSE_BRACE, COLON, COMMA, decodeString, OPEN_BRACE, QUOTE, skipWs, stringEnd, valueEnd, type FieldIndex, type Fields, type Span } from './json-scan.js';

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

/**
 * The members of the line the parser scanned last, read from its member table (parse/top-members.ts) while it is
 * current; once another line has been scanned, a TopLevel walk of the same text answers instead.
 */
class ScannedTop implements Fields {
  readonly #gen = scanned.gen;
  #walk: TopLevel | undefined;

  constructor(readonly raw: string) {}

  get current(): boolean {
    return scanned.gen === this.#gen && scanned.raw === this.raw;
  }

  get(key: string): Span | undefined {
    if (!this.current) return (this.#walk ??= new TopLevel(this.raw)).get(key);
    const m = memberIndex(this.raw, key);
    return m < 0 ? undefined : { start: memberValueStart(m), end: memberValueEnd(m) };
  }

  /** Every key, in order, first occurrence kept (as TopLevel.all). */
  all(): FieldIndex {
    if (!this.current) return (this.#walk ??= new TopLevel(this.raw)).all();
    const out: FieldIndex = new Map();
    for (let m = 0; m < scanned.count; m++) {
      const at = memberKeyStart(m) + 1;
      const key = this.raw.slice(at, at + memberKeyLength(m));
      if (!out.has(key)) out.set(key, { start: memberValueStart(m), end: memberValueEnd(m) });
    }
    return out;
  }
}

/** The top level of one event: lookups, and every member when a stage needs them all. */
export type TopFields = Fields & { all(): FieldIndex };

let lastRaw: string | undefined;
let lastTop: TopFields | undefined;

/**
 * The top level of an event's raw text, or undefined when it is not one JSON object. For the line just parsed
 * the parser's member table answers (no second walk); else a lazy TopLevel scan. The last one is kept: the
 * stages of one event (metrics, redact, trim, identity) share it. Lookups throw SyntaxError on malformed text
 * (never for a line the parser accepted as an object).
 */
export function topFields(raw: string): TopFields | undefined {
  if (raw === lastRaw) return lastTop; // a ScannedTop that is no longer current walks the text itself
  let top: TopFields | undefined;
  if (raw === scanned.raw) top = new ScannedTop(raw);
  else {
    try {
      top = new TopLevel(raw);
    } catch {
      top = undefined;
    }
  }
  lastRaw = raw;
  lastTop = top;
  return top;
}

/** True when lookups in `top` are table reads (the parser's member table), not a walk of the text. */
export function isIndexed(top: Fields): boolean {
  return top instanceof ScannedTop && top.current;
}

