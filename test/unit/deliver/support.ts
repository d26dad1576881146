/** Shared test support for the delivery tests: batches, a capturing logger, virtual time, a scripted sink. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Batch } from '../../../src/batch/batch.js';
import type { Logger } from '../../../src/observe/log.js';
import type { ShipEvent } from '../../../src/parse/ship-event.js';
import type { Sink } from '../../../src/deliver/sink.js';
import { SinkError } from '../../../src/deliver/sink.js';
import { ErrorCodes } from '../../../src/errors.js';

export function objectEvent(obj: Record<string, unknown>, time = 1_700_000_000, markers?: Record<string, string>): ShipEvent {
  return { raw: JSON.stringify(obj), isObject: true, time, timeNs: 0, ...(markers ? { markers } : {}) };
}

export function lineEvent(line: string, time = 1_700_000_000, markers?: Record<string, string>): ShipEvent {
  return { raw: line, isObject: false, time, timeNs: 0, ...(markers ? { markers } : {}) };
}

/** A batch of `n` audit-like object events numbered from `first` (field `seq`). */
export function makeBatch(over: Partial<Batch> & { n?: number; first?: number } = {}): Batch {
  const { n = 3, first = 0, ...rest } = over;
  const events = rest.events ?? Array.from({ length: n }, (_, i) => objectEvent({ kind: 'Event', auditID: `id-${first + i}`, seq: first + i, verb: 'get' }, 1_700_000_000 + first + i));
  return {
    id: `stream-1:${first}-${first + events.length}`,
    inputKey: 'audit',
    logstore: 'audit-store',
    project: 'k8s-log-c1',
    product: 'k8s-audit',
    source: 'node-1',
    tags: { audit: 'apiserver', __hostname__: 'node-1', __path__: '/var/log/kubernetes/audit.log' },
    rawBytes: events.reduce((s, e) => s + Buffer.byteLength(e.raw), 0),
    range: { stream: 'stream-1', start: first * 100, end: (first + events.length) * 100 },
    shard: 2,
    ttl: 90,
    logstoreMode: 'standard',
    ...rest,
    events,
  };
}

/** A pino logger whose lines are collected as parsed objects (and as raw text, to look for leaked secrets). */
export function captureLogger(level = 'debug'): { logger: Logger; lines: Array<Record<string, unknown>>; text: () => string } {
  const raw: string[] = [];
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level }, { write: (s: string) => { raw.push(s); lines.push(JSON.parse(s)); } });
  return { logger, lines, text: () => raw.join('') };
}

export async function tempDir(prefix = 'tailship-deliver-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Discrete-event virtual time for code that takes an injected `sleep(ms, signal)` and `now()`:
 * `run(untilMs)` lets pending promise chains settle, then fires the earliest timer, and so on.
 */
export function virtualTime() {
  let now = 0;
  const timers: Array<{ at: number; seq: number; resolve: () => void }> = [];
  let seq = 0;
  const sleeps: number[] = [];

  function sleep(ms: number, signal: AbortSignal): Promise<void> {
    sleeps.push(ms);
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const t = { at: now + ms, seq: seq++, resolve: () => { signal.removeEventListener('abort', onAbort); resolve(); } };
      const onAbort = () => {
        const i = timers.indexOf(t);
        if (i >= 0) timers.splice(i, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      timers.push(t);
    });
  }

  /** Lets every pending promise chain (and setImmediate round) run. */
  async function settle(): Promise<void> {
    for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
  }

  /** Advances through timers up to `untilMs` (or until `stop()` is true), settling between them. */
  async function run(untilMs: number, stop?: () => boolean): Promise<void> {
    for (;;) {
      await settle();
      if (stop?.()) return;
      timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const t = timers[0];
      if (!t || t.at > untilMs) {
        now = Math.max(now, untilMs);
        return;
      }
      timers.shift();
      now = t.at;
      t.resolve();
    }
  }

  return { now: () => now, sleep, sleeps, run, settle, pending: () => timers.length };
}

export type Script = (batch: Batch, call: number) => 'ok' | SinkError | Error | Promise<void>;

/** A Sink whose answers come from a script; records every call and how many sends run at once. */
export function scriptedSink(script: Script, name = 'fake') {
  const calls: Array<{ id: string; events: number; call: number }> = [];
  let active = 0;
  let maxActive = 0;
  const sink: Sink & { calls: typeof calls; active: () => number; maxActive: () => number } = {
    name,
    calls,
    active: () => active,
    maxActive: () => maxActive,
    async send(batch: Batch): Promise<void> {
      const call = calls.length + 1;
      calls.push({ id: batch.id, events: batch.events.length, call });
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        const answer = script(batch, call);
        if (answer === 'ok') return;
        if (answer instanceof Error) throw answer;
        await answer;
      } finally {
        active--;
      }
    },
    async close() {},
  };
  return sink;
}

export function retryable(msg = 'store answered 503', extra: ConstructorParameters<typeof SinkError>[3] = { statusCode: 503 }) {
  return new SinkError('retryable', ErrorCodes.SINK_HTTP_5XX, msg, extra);
}

/** A promise with its resolve/reject exposed. */
export function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Deterministic [0, 1) generator (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The `code` of what `fn` throws (undefined when it does not throw): tests assert codes, never message text. */
export function thrownCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? `(no code: ${String(err)})`;
  }
  return undefined;
}
