import type * as UndiciModule from 'undici';
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';

/** What the sinks use of undici: a Pool per store origin, an Agent for SLS's per-project hosts. */
export type Undici = Pick<typeof UndiciModule, 'Pool' | 'Agent'>;

/** A client made from undici on first use, and what close() needs to know: whether it was ever made. */
export interface LazyClient<T> {
  get(): Promise<T>;
  /** The client if get() was called, else undefined (nothing to close). */
  made(): Promise<T> | undefined;
}

/**
 * undici adds ~19 MB RSS to a process once imported whole (measured: 42 → 61 MB, `node -e "await import('undici')"`;
 * ~10 MB as loaded below), so it is loaded when a sink first sends, never for `file:`, `stdout:` or `syslog+…` sinks.
 */
export function lazyUndici<T>(make: (undici: Undici) => T): LazyClient<T> {
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
async function loadUndici(): Promise<Undici> {
  setFlagsFromString('--liftoff-only');
  return loadPoolAndAgent() ?? (await import('undici'));
}

/**
 * undici's index loads every client it has (fetch, WebSocket, EventSource, caches, mocks, proxies, HTTP/2):
 * 18.6 → 11.6 MB RssAnon and 43.8 → 41.6 MB RssFile when only the Pool and Agent modules and the request API are
 * loaded (`new Pool()` after each, bench/README.md). undici has no `exports` map, so its lib files are its
 * published layout; the request method is mixed into Dispatcher.prototype exactly as undici's index.js does it.
 * If a later undici moves them, the whole package is loaded instead (a test checks these are undici's own).
 */
export function loadPoolAndAgent(): Undici | undefined {
  const require = createRequire(import.meta.url);
  // Variable specifiers: these are runtime paths, not modules the type checker should resolve.
  const lib = (file: string): unknown => require(`undici/lib/${file}`);
  try {
    const Pool = lib('dispatcher/pool.js') as Undici['Pool'];
    const Agent = lib('dispatcher/agent.js') as Undici['Agent'];
    const dispatcher = (lib('dispatcher/dispatcher.js') as { prototype: Record<string, unknown> }).prototype;
    dispatcher.request ??= lib('api/api-request.js');
    if (typeof Pool !== 'function' || typeof Agent !== 'function' || typeof dispatcher.request !== 'function') return undefined;
    return { Pool, Agent };
  } catch {
    return undefined;
  }
}
