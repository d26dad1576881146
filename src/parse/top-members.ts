/**
 * Where the top-level members of the last line the validating scan accepted are (parse-line.ts writes them, the
 * audit stages read them through json-scan's `topFields`): the stages of one event then look keys up in a flat
 * table instead of walking the head again, and never walk a body to learn that a key is absent.
 *
 * One owner, one line: the table describes `raw` only until the next line is scanned (`gen` tells a reader
 * whether what it holds is still current). Keys at the top level have no escapes when the scan accepts a line.
 */
export const scanned = {
  /** The text the table describes, or undefined while a scan runs or after one that failed. */
  raw: undefined as string | undefined,
  /** Bumped for each accepted line. */
  gen: 0,
  count: 0,
  /** Per member: key start (its quote), key end (past its quote), value start, value end. */
  spans: new Int32Array(4 * 32),
};

/** Starts a member at the top level (called by the scan); the value end follows in `endMember`. */
export function startMember(keyStart: number, keyEnd: number, valueStart: number): void {
  let spans = scanned.spans;
  const at = scanned.count * 4;
  if (at + 4 > spans.length) {
    const grown = new Int32Array(spans.length * 2);
    grown.set(spans);
    scanned.spans = spans = grown;
  }
  spans[at] = keyStart;
  spans[at + 1] = keyEnd;
  spans[at + 2] = valueStart;
  spans[at + 3] = -1;
  scanned.count++;
}

/** Where member `m`'s key starts (its quote). */
export function memberKeyStart(m: number): number {
  return scanned.spans[m * 4]!;
}

/** The length of member `m`'s key, quotes excluded. */
export function memberKeyLength(m: number): number {
  return scanned.spans[m * 4 + 1]! - scanned.spans[m * 4]! - 2;
}

/** Where member `m`'s value starts and ends. */
export function memberValueStart(m: number): number {
  return scanned.spans[m * 4 + 2]!;
}

export function memberValueEnd(m: number): number {
  return scanned.spans[m * 4 + 3]!;
}

/** True when member `m`'s key is `key` (keys in the table have no escapes: the text compares as is). */
export function memberKeyIs(raw: string, m: number, key: string): boolean {
  return memberKeyLength(m) === key.length && raw.startsWith(key, memberKeyStart(m) + 1);
}

/** Index of the first member named `key` in the current table, or -1 (the first, as TopLevel keeps it). */
export function memberIndex(raw: string, key: string): number {
  for (let m = 0, n = scanned.count; m < n; m++) if (memberKeyIs(raw, m, key)) return m;
  return -1;
}

/**
 * The string that [start, end) holds (quotes included): undefined when the value there is not a string (as
 * spanString), null when it has an escape and would need decoding (the caller takes its slower path).
 */
export function plainString(raw: string, start: number, end: number): string | undefined | null {
  if (raw.charCodeAt(start) !== 0x22) return undefined;
  const inner = raw.slice(start + 1, end - 1);
  return inner.indexOf('\\') === -1 ? inner : null;
}

/** plainString of the first member named `key`; undefined when there is none. */
export function memberString(raw: string, key: string): string | undefined | null {
  const m = memberIndex(raw, key);
  return m < 0 ? undefined : plainString(raw, memberValueStart(m), memberValueEnd(m));
}
