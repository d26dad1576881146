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

/** Index of the first member named `key` in the current table, or -1 (the first, as TopLevel keeps it). */
export function memberIndex(raw: string, key: string): number {
  const spans = scanned.spans;
  for (let m = 0, n = scanned.count; m < n; m++) {
    const ks = spans[m * 4]!;
    if (spans[m * 4 + 1]! - ks - 2 === key.length && raw.startsWith(key, ks + 1)) return m;
  }
  return -1;
}
