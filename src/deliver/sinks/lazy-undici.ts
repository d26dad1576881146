import type * as Undici from 'undici';
import { setFlagsFromString } from 'node:v8';

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
    get: () => (client ??= loadUndici().then(make)),
    made: () => client,
  };
}

/**
 * undici parses HTTP with llhttp compiled to WebAssembly. V8 tiers its hot functions up to TurboFan, whose
 * compile zones peaked at ~35 MB of malloc'd memory while catching up on a backlog (v8 peak_malloced_memory 42 MB,
 * 7 MB with Liftoff only; peak RSS 155 → 134 MB, bench/README.md). Parsing one small answer per batch needs no
 * optimised code, and tailship runs no other WebAssembly. Unlike the heap limits, this flag takes effect after
 * start (it is read when code is compiled; measured).
 */
function loadUndici(): Promise<typeof Undici> {
  setFlagsFromString('--liftoff-only');
  return import('undici');
}
