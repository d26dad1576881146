/**
 * What the renderers need to know about a log's text that is the same whichever sink renders it: whether it
 * carries our reserved keys, and where its own members end. Computed once per event (batch/event-arena.ts).
 */

/**
 * `raw.includes('"__time__"') || raw.includes('"__tag__"')`, found through the two-character search for `__`,
 * which V8 runs several times faster than a longer pattern (these keys are rare in audit events).
 */
export function hasReservedKey(raw: string): boolean {
  for (let p = raw.indexOf('__'); p !== -1; p = raw.indexOf('__', p + 1)) {
    if (raw.charCodeAt(p - 1) === 0x22 && (raw.startsWith('__time__"', p) || raw.startsWith('__tag__"', p))) return true;
  }
  return false;
}

/** renderLog's slice(0, close).trimEnd() of a valid object: only JSON whitespace can precede the last `}`. */
export function objectEnd(raw: string): number {
  let end = raw.lastIndexOf('}');
  for (let c = raw.charCodeAt(end - 1); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = raw.charCodeAt(end - 1)) end--;
  return end;
}
