/**
 * A copy of `s` that pins no other string. A line read from a file is a slice of its read segment
 * (tail/line-framer.ts), and any substring of it is a slice of that segment too: kept past its batch (a held
 * legacy request line, a label), it would keep the whole segment alive. Strings under 13 characters are never
 * slices in V8, so they are returned as they are.
 */
export function ownString(s: string): string {
  if (s.length < 13) return s;
  // The concatenation is flattened into a new sequential string when sliced; the result is a view of that copy.
  return (' ' + s).slice(1);
}
