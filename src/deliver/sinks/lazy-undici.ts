import type * as Undici from 'undici';

/** A client made from undici on first use, and what close() needs to know: whether it was ever made. */
export interface LazyClient<T> {
  get(): Promise<T>;
  /** The client if get() was called, else undefined (nothing to close). */
  made(): Promise<T> | undefined;
}

/**
 * undici adds ~19 MB RSS to a process once imported (measured: 42 → 61 MB, `node -e "await import('undici')"`), so
 * it is imported when a sink first sends, never for `file:`, `stdout:` or `syslog+…` sinks.
 */
export function lazyUndici<T>(make: (undici: typeof Undici) => T): LazyClient<T> {
  let client: Promise<T> | undefined;
  return {
    get: () => (client ??= import('undici').then(make)),
    made: () => client,
  };
}
