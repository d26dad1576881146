import { createReadStream } from 'node:fs';
import { readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import split2 from 'split2';
import type { Batch } from '../batch/batch.js';
import type { ShipEvent } from '../parse/ship-event.js';
import { ErrorCodes } from '../errors.js';
import { parseDeadLetterLine, recordBatch, type DeadLetterRecord } from './dead-letter-record.js';
import { deadLetterDir } from './dead-letter.js';
import { appendDurably } from './durable-write.js';
import { splitBatch } from './deliver-whole.js';
import { SinkError, type Sink } from './sink.js';

/**
 * `tailship replay` (SPEC §11): sends the dead-letter spool `{state-dir}/dead-letter/*.ndjson` again, one record
 * (one rejected batch) at a time, read line by line with split2.
 *
 * - An entry leaves the spool only once the store acknowledged all of its logs. A batch the store finds too large
 *   is sent in halves, as the deliverer does; the halves it still refuses stay, as their own entries.
 * - An entry the store rejects again stays in the spool, with the new answer in `lastReplay` (kind, code, status,
 *   reason), and is reported.
 * - When the store does not take writes at all (retryable or blocked: down, throttled, bad credentials) replay
 *   stops at that entry: it and every later one stay as they are, to be replayed later.
 * - A line that is not a dead-letter record stays as it is and is reported (REPLAY_BAD_RECORD).
 *
 * Safe while the agent runs: a spool file is first claimed by renaming it to `{name}.replay` (the agent opens the
 * spool per write, so its next dead letter starts a new file), read once no write to it is in progress any more,
 * and what stays is appended back to `{name}` before the claimed file is removed. A replay that dies half-way
 * leaves the `.replay` file, which the next replay finishes first; entries it had sent but not yet removed are
 * sent again (at least once, like the agent).
 */
export interface ReplayOptions {
  stateDir: string;
  sink: Sink;
  /** Report what would be sent; send nothing, change nothing. */
  dryRun?: boolean;
  now?: () => number;
}

export type EntryOutcome = 'replayed' | 'would-replay' | 'rejected-again' | 'not-sent' | 'unreadable';

export interface EntryReport {
  file: string;
  line: number;
  batch?: string;
  logs: number;
  outcome: EntryOutcome;
  /** Why it stayed: the store's new answer (or why the line is not a record). */
  kind?: string;
  code?: string;
  storeCode?: string;
  statusCode?: number;
  reason?: string;
}

export interface ReplaySummary {
  dir: string;
  files: number;
  entries: number;
  replayed: number;
  logsReplayed: number;
  /** Entries still in the spool after this run (rejected again, not sent, unreadable). */
  kept: number;
  rejectedAgain: number;
  notSent: number;
  unreadable: number;
  /** Set when the store took no writes and replay stopped early. */
  stopped?: { kind: string; code: string; reason: string };
  report: EntryReport[];
}

/** A claimed spool file is read once it has not grown for this long (a write in flight finishes in milliseconds). */
const QUIET_MS = 100;
const QUIET_MAX_MS = 2000;

export async function replayDeadLetters(opts: ReplayOptions): Promise<ReplaySummary> {
  const dir = deadLetterDir(opts.stateDir);
  const now = opts.now ?? Date.now;
  const summary: ReplaySummary = {
    dir,
    files: 0,
    entries: 0,
    replayed: 0,
    logsReplayed: 0,
    kept: 0,
    rejectedAgain: 0,
    notSent: 0,
    unreadable: 0,
    report: [],
  };
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  // Each spool's leftover from an interrupted replay first, then the spool itself.
  const spools = [...new Set(names.filter((n) => /\.ndjson(\.replay)?$/.test(n)).map((n) => n.replace(/\.replay$/, '')))].sort();
  for (const name of spools) {
    const spool = join(dir, name);
    for (const claimed of [`${spool}.replay`, spool]) {
      if (summary.stopped && !opts.dryRun) return summary;
      if (!(await exists(claimed))) continue;
      summary.files++;
      if (opts.dryRun) {
        await readEntries(claimed, (line, n) => dryRunEntry(summary, claimed, line, n));
        continue;
      }
      await replayFile(claimed, spool, dir, opts.sink, summary, now);
    }
  }
  return summary;
}

async function replayFile(path: string, spool: string, dir: string, sink: Sink, summary: ReplaySummary, now: () => number): Promise<void> {
  const work = path.endsWith('.replay') ? path : `${spool}.replay`;
  if (work !== path) {
    await rename(path, work);
    await untilQuiet(work);
  }
  const keep: string[] = [];
  await readEntries(work, async (line, n) => {
    const kept = await replayEntry(sink, summary, spool, line, n, now);
    keep.push(...kept);
  });
  if (keep.length > 0) await appendDurably(dir, spool, Buffer.from(keep.join('')));
  await unlink(work);
}

/** Sends one line's record; returns the lines that stay in the spool (none once all of it is acknowledged). */
async function replayEntry(sink: Sink, s: ReplaySummary, file: string, line: string, n: number, now: () => number): Promise<string[]> {
  const rec = readEntry(s, file, line, n);
  if (!rec) {
    s.kept++;
    return [`${line}\n`];
  }
  const base = { file, line: n, batch: rec.batch.id, logs: rec.logs.length };
  if (s.stopped) {
    s.notSent++;
    s.kept++;
    s.report.push({ ...base, outcome: 'not-sent', reason: 'replay stopped: the store takes no writes' });
    return [`${line}\n`];
  }
  const batch = recordBatch(rec);
  const index = new Map(batch.events.map((e, i) => [e, i]));
  const result = await sendSettled(sink, batch);
  s.logsReplayed += result.acked;
  const refused = result.refused.map((r) => keptLine(rec, r.batch, index, r.err, now));
  if (result.stop) {
    s.stopped = { kind: result.stop.kind, code: result.stop.code, reason: result.stop.message };
    s.notSent++;
    s.kept++;
    s.report.push({ ...base, outcome: 'not-sent', ...answer(result.stop) });
    // Logs acknowledged before the store stopped are gone from the entry; the rest stays.
    if (result.acked === 0 && refused.length === 0) return [`${line}\n`];
    return [...refused, ...(result.unsent.events.length > 0 ? [keptLine(rec, result.unsent, index, undefined, now)] : [])];
  }
  if (refused.length === 0) {
    s.replayed++;
    s.report.push({ ...base, outcome: 'replayed' });
    return [];
  }
  s.rejectedAgain++;
  s.kept++;
  s.report.push({ ...base, outcome: 'rejected-again', ...answer(result.refused[0]!.err) });
  return refused;
}

/** Counts the entry and parses it; an unreadable line is reported and gives undefined. */
function readEntry(s: ReplaySummary, file: string, line: string, n: number): DeadLetterRecord | undefined {
  s.entries++;
  const rec = parseDeadLetterLine(line);
  if (!('error' in rec)) return rec;
  s.unreadable++;
  s.report.push({ file, line: n, logs: 0, outcome: 'unreadable', code: ErrorCodes.REPLAY_BAD_RECORD, reason: rec.error });
  return undefined;
}

function dryRunEntry(s: ReplaySummary, file: string, line: string, n: number): void {
  const rec = readEntry(s, file, line, n);
  if (!rec) return;
  s.report.push({ file, line: n, batch: rec.batch.id, logs: rec.logs.length, outcome: 'would-replay', kind: rec.kind, code: rec.code, reason: rec.reason });
}

interface SendResult {
  /** Logs the store acknowledged. */
  acked: number;
  /** Parts the store refused for good ('rejected', or 'too-large' for a single log). */
  refused: Array<{ batch: Batch; err: SinkError }>;
  /** The store took no writes (retryable / blocked): replay stops; `unsent` is what of the batch was not acknowledged. */
  stop?: SinkError;
  unsent: Batch;
}

/** One attempt per part: acknowledged, refused (kept), or the store is not taking writes (stop). */
async function sendSettled(sink: Sink, batch: Batch): Promise<SendResult> {
  try {
    await sink.send(batch);
    return { acked: batch.events.length, refused: [], unsent: { ...batch, events: [] } };
  } catch (e) {
    const err = e instanceof SinkError ? e : new SinkError('retryable', ErrorCodes.SINK_UNEXPECTED, `the sink failed unexpectedly: ${String(e)}`, { cause: e });
    if (err.kind === 'too-large' && batch.events.length > 1) {
      const [first, second] = splitBatch(batch);
      const a = await sendSettled(sink, first);
      if (a.stop) return { ...a, unsent: { ...batch, events: [...a.unsent.events, ...second.events] } };
      const b = await sendSettled(sink, second);
      return { acked: a.acked + b.acked, refused: [...a.refused, ...b.refused], ...(b.stop ? { stop: b.stop } : {}), unsent: b.unsent };
    }
    if (err.kind === 'rejected' || err.kind === 'too-large') return { acked: 0, refused: [{ batch, err }], unsent: { ...batch, events: [] } };
    return { acked: 0, refused: [], stop: err, unsent: batch };
  }
}

/** The record as it stays: only the logs of `part` (by identity, through `index`), and the store's latest answer. */
function keptLine(rec: DeadLetterRecord, part: Batch, index: Map<ShipEvent, number>, err: SinkError | undefined, now: () => number): string {
  const logs = part.events.map((e) => rec.logs[index.get(e)!]!);
  const out: DeadLetterRecord = { ...rec, batch: { ...rec.batch, id: part.id, events: logs.length }, logs };
  if (err) out.lastReplay = { time: new Date(now()).toISOString(), kind: err.kind, ...answer(err), code: err.code, reason: err.message };
  return `${JSON.stringify(out)}\n`;
}

function answer(err: SinkError): Pick<EntryReport, 'kind' | 'code' | 'storeCode' | 'statusCode' | 'reason'> {
  return {
    kind: err.kind,
    code: err.code,
    ...(err.storeCode ? { storeCode: err.storeCode } : {}),
    ...(err.statusCode !== undefined ? { statusCode: err.statusCode } : {}),
    reason: err.message,
  };
}

/** Calls `each` for every non-empty line of the file, in order, one at a time (split2: no offsets needed). */
async function readEntries(path: string, each: (line: string, n: number) => void | Promise<void>): Promise<void> {
  let n = 0;
  for await (const line of createReadStream(path).pipe(split2()) as AsyncIterable<string>) {
    n++;
    if (line.trim() === '') continue;
    await each(line, n);
  }
}

async function untilQuiet(path: string): Promise<void> {
  let size = (await stat(path)).size;
  for (let waited = 0; waited < QUIET_MAX_MS; waited += QUIET_MS) {
    await delay(QUIET_MS);
    const next = (await stat(path)).size;
    if (next === size) return;
    size = next;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
