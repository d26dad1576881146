import path from 'node:path';

/** True when the last segment of an input path holds `*` or `?` (logtail allows globs only there). */
export function hasGlob(p: string): boolean {
  return /[*?]/.test(path.basename(p));
}

/** A matcher for one glob segment: `*` any run of characters except `/`, `?` one character. */
export function segmentMatcher(pattern: string): (name: string) => boolean {
  if (!/[*?]/.test(pattern)) return (name) => name === pattern;
  const re = new RegExp(
    '^' +
      pattern
        .split('')
        .map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
        .join('') +
      '$',
  );
  return (name) => re.test(name);
}
