// Reads what the `file:` sink wrote and compares it with what the writer wrote, as multisets of
// (auditID, stage) keys: a tailer that loses or repeats events must fail with the keys named, not a count.
import fs from 'node:fs';
import path from 'node:path';

/** One log line of the file sink (SPEC §3): the event's own keys, or `content`, plus `__time__` and `__tag__`. */
export interface ShippedLog {
  __time__?: number;
  __tag__?: Record<string, string>;
  content?: string;
  auditID?: string;
  stage?: string;
  [key: string]: unknown;
}

/** The identity of one audit event line: auditID alone is not unique (one request writes 2–3 stages). */
export function eventKey(auditID: string, stage: string): string {
  return `${auditID} ${stage}`;
}

const AUDIT_ID_IN_TEXT = /"auditID"\s*:\s*"([^"]*)"/;
const STAGE_IN_TEXT = /"stage"\s*:\s*"([^"]*)"/;

/**
 * Key of a shipped log: `auditID stage` for a parsed event; for a `{"content": …}` log (invalid JSON, a line cut by
 * --max-line-bytes, a plain-text input) the auditID/stage found in the text when both are there, else
 * `content:<text>` so that plain lines can be compared too.
 */
export function logKey(log: ShippedLog): string {
  if (typeof log.auditID === 'string' && typeof log.stage === 'string') return eventKey(log.auditID, log.stage);
  if (typeof log.content === 'string') return textKey(log.content);
  return `json:${JSON.stringify(stripReserved(log))}`;
}

/** Key of a raw line as written (without its newline), by the same rules as logKey. */
export function textKey(text: string): string {
  const id = AUDIT_ID_IN_TEXT.exec(text);
  const stage = STAGE_IN_TEXT.exec(text);
  if (id && stage) return eventKey(id[1]!, stage[1]!);
  return `content:${text}`;
}

function stripReserved(log: ShippedLog): Record<string, unknown> {
  const { __time__: _t, __tag__: _g, ...rest } = log;
  return rest;
}

/** `{logstore}-{n}.ndjson` (rotated, n ascending) then `{logstore}.ndjson`: oldest first, as far as we can tell. */
export function sinkFiles(dir: string, logstore: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const rotated = new RegExp(`^${escapeRegExp(logstore)}-(\\d+)\\.ndjson$`);
  const numbered = names
    .map((n) => ({ n, m: rotated.exec(n) }))
    .filter((x) => x.m)
    .sort((a, b) => Number(a.m![1]) - Number(b.m![1]))
    .map((x) => path.join(dir, x.n));
  const active = path.join(dir, `${logstore}.ndjson`);
  return names.includes(`${logstore}.ndjson`) ? [...numbered, active] : numbered;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Incremental reader of a file-sink directory: each poll() parses only the bytes appended since the last one
 * (a crash test writes tens of MB), and never a trailing line that has no newline yet (the sink may be mid-write).
 */
export class SinkReader {
  readonly logs: ShippedLog[] = [];
  /** Lines of the sink output that were not JSON objects: always a sink bug, reported by the scenarios. */
  readonly garbage: string[] = [];
  /** Bytes consumed and the unfinished last line, per file identity (`dev:ino`). */
  private readonly offsets = new Map<string, number>();
  private readonly pending = new Map<string, Buffer>();

  constructor(
    readonly dir: string,
    readonly logstore = 'audit-test',
  ) {}

  /** Reads what is new; returns only the new logs (all of them are in `logs`). */
  poll(): ShippedLog[] {
    const fresh: ShippedLog[] = [];
    for (const file of sinkFiles(this.dir, this.logstore)) {
      let fd: number;
      try {
        fd = fs.openSync(file, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // renamed between readdir and open
        throw err;
      }
      try {
        const st = fs.fstatSync(fd);
        const size = st.size;
        // Keyed by inode, not name: the sink renames a full `{logstore}.ndjson` to `{logstore}-{n}.ndjson`, which
        // is the same bytes under a new name and must not be read twice.
        const id = `${st.dev}:${st.ino}`;
        let offset = this.offsets.get(id) ?? 0;
        if (size < offset) {
          // The sink must never shrink a file it already wrote; make the reader start over rather than hide it.
          this.garbage.push(`[sink file ${file} shrank from ${offset} to ${size} bytes]`);
          offset = 0;
          this.pending.delete(id);
        }
        if (size === offset) continue;
        const buf = Buffer.allocUnsafe(size - offset);
        let got = 0;
        while (got < buf.length) {
          const n = fs.readSync(fd, buf, got, buf.length - got, offset + got);
          if (n === 0) break;
          got += n;
        }
        this.offsets.set(id, offset + got);
        const prev = this.pending.get(id);
        const data = prev ? Buffer.concat([prev, buf.subarray(0, got)]) : buf.subarray(0, got);
        const lastNl = data.lastIndexOf(0x0a);
        if (lastNl < 0) {
          this.pending.set(id, Buffer.from(data));
          continue;
        }
        this.pending.set(id, Buffer.from(data.subarray(lastNl + 1)));
        for (const line of data.subarray(0, lastNl).toString('utf8').split('\n')) {
          if (line === '') continue;
          try {
            const parsed: unknown = JSON.parse(line);
            if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
            fresh.push(parsed as ShippedLog);
          } catch {
            this.garbage.push(line.length > 300 ? `${line.slice(0, 300)}…` : line);
          }
        }
      } finally {
        fs.closeSync(fd);
      }
    }
    for (const log of fresh) this.logs.push(log);
    return fresh;
  }

  /** Polls, then returns every log read so far. */
  all(): ShippedLog[] {
    this.poll();
    return this.logs;
  }
}

/** Every log the file sink wrote to DIR for one logstore, oldest file first. */
export function readSinkDir(dir: string, logstore = 'audit-test'): ShippedLog[] {
  return new SinkReader(dir, logstore).all();
}

export function keysOf(logs: Iterable<ShippedLog>): string[] {
  const out: string[] = [];
  for (const log of logs) out.push(logKey(log));
  return out;
}

export function countKeys(keys: Iterable<string>): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

export interface KeyDiff {
  /** Expected keys delivered fewer times than written: [key, expected, delivered]. */
  missing: Array<[string, number, number]>;
  /** Expected keys delivered more times than written: [key, expected, delivered]. */
  duplicated: Array<[string, number, number]>;
  /** Delivered keys that were never written: [key, delivered]. */
  unexpected: Array<[string, number]>;
  expectedTotal: number;
  deliveredTotal: number;
  /** Sum over duplicated keys of (delivered − expected). */
  duplicateCount: number;
  missingCount: number;
}

/** Compares two multisets of keys. */
export function diffKeys(expected: Iterable<string>, delivered: Iterable<string>): KeyDiff {
  const want = countKeys(expected);
  const got = countKeys(delivered);
  const diff: KeyDiff = {
    missing: [],
    duplicated: [],
    unexpected: [],
    expectedTotal: 0,
    deliveredTotal: 0,
    duplicateCount: 0,
    missingCount: 0,
  };
  for (const [k, n] of want) {
    diff.expectedTotal += n;
    const g = got.get(k) ?? 0;
    if (g < n) {
      diff.missing.push([k, n, g]);
      diff.missingCount += n - g;
    } else if (g > n) {
      diff.duplicated.push([k, n, g]);
      diff.duplicateCount += g - n;
    }
  }
  for (const [k, g] of got) {
    diff.deliveredTotal += g;
    if (!want.has(k)) diff.unexpected.push([k, g]);
  }
  return diff;
}

function short(key: string): string {
  return key.length > 160 ? `${key.slice(0, 160)}…` : key;
}

/** A message that lists what is wrong, key by key (first `limit` of each kind). */
export function formatDiff(diff: KeyDiff, limit = 15): string {
  const parts = [`expected ${diff.expectedTotal} events, delivered ${diff.deliveredTotal}`];
  const list = <T>(title: string, items: T[], fmt: (x: T) => string): void => {
    if (items.length === 0) return;
    const shown = items.slice(0, limit).map((x) => `  ${fmt(x)}`);
    if (items.length > limit) shown.push(`  … and ${items.length - limit} more`);
    parts.push(`${title} (${items.length} keys):\n${shown.join('\n')}`);
  };
  list(`MISSING ${diff.missingCount} events`, diff.missing, ([k, n, g]) => `${short(k)}  written ${n}×, delivered ${g}×`);
  list(`DUPLICATED ${diff.duplicateCount} extra deliveries`, diff.duplicated, ([k, n, g]) => `${short(k)}  written ${n}×, delivered ${g}×`);
  list('UNEXPECTED (never written)', diff.unexpected, ([k, g]) => `${short(k)}  delivered ${g}×`);
  return parts.join('\n');
}

/** Throws unless `delivered` is exactly the multiset `expected`: nothing missing, nothing repeated, nothing else. */
export function assertExactKeys(expected: Iterable<string>, delivered: Iterable<string>, what = 'delivered events'): KeyDiff {
  const diff = diffKeys(expected, delivered);
  if (diff.missing.length || diff.duplicated.length || diff.unexpected.length) {
    throw new Error(`${what}: not exactly once\n${formatDiff(diff)}`);
  }
  return diff;
}

/**
 * Throws if any expected key is missing or anything unexpected arrived; duplicates are allowed (at-least-once
 * after a SIGKILL) and returned for the caller to bound and report.
 */
export function assertNoneMissing(expected: Iterable<string>, delivered: Iterable<string>, what = 'delivered events'): KeyDiff {
  const diff = diffKeys(expected, delivered);
  if (diff.missing.length || diff.unexpected.length) {
    throw new Error(`${what}: events lost or foreign\n${formatDiff(diff)}`);
  }
  return diff;
}

/**
 * Checks that the first deliveries of `expectedOrder` (unique keys) come in that order. Returns null when they do,
 * else a message naming the first pair out of order. Keys that were never delivered are ignored (checked elsewhere).
 */
export function orderProblem(expectedOrder: string[], delivered: string[]): string | null {
  const rank = new Map<string, number>();
  expectedOrder.forEach((k, i) => rank.set(k, i));
  const seen = new Set<string>();
  let prev: { key: string; rank: number; at: number } | undefined;
  for (let i = 0; i < delivered.length; i++) {
    const k = delivered[i]!;
    const r = rank.get(k);
    if (r === undefined || seen.has(k)) continue;
    seen.add(k);
    if (prev && r < prev.rank) {
      return (
        `delivery order differs from write order: ${short(k)} (written #${r}) was delivered at position ${i}, ` +
        `after ${short(prev.key)} (written #${prev.rank}, delivered at ${prev.at})`
      );
    }
    prev = { key: k, rank: r, at: i };
  }
  return null;
}
