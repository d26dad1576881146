/**
 * A copy of `s` that pins no other string. A substring of a line (a label, a held legacy request's field) is a
 * slice of the line in V8: kept for long, it would keep the whole line alive. Strings under 13 characters are
 * never slices in V8, so they are returned as they are.
 */
export function ownString(s: string): string {
  if (s.length < 13) return s;
  // The concatenation is flattened into a new sequential string when sliced; the result is a view of that copy.
  return (' ' + s).slice(1);
}
