// `tailship policy simulate` (SPEC §6): runs audit logs (plain or .gz, one event per line) through the same
// decision and the same body removal as the agent's policy stage, ships nothing, and counts per rule.

import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { ErrorCodes, TailshipError } from '../../errors.js';
import { parseLine } from '../../parse/parse-line.js';
import { applyPolicy } from './apply.js';
import type { Evaluator } from './evaluate.js';

export interface Counts {
  events: number;
  kept: number;
  bytesIn: number;
  bytesOut: number;
}

export interface RuleCounts extends Counts {
  /** 0-based rule index; null for the events no rule matched. */
  rule: number | null;
}

export interface PerEvent {
  auditID: string;
  stage: string;
  rule: number | null;
  level: string;
  kept: boolean;
}

export interface SimulationResult {
  /** One entry per rule of the policy, in order, then the unmatched events (`rule: null`). */
  rules: RuleCounts[];
  total: Counts;
  /** Of the kept events: dropped for level None / for an omitted stage. */
  droppedByStage: number;
  /** Non-empty lines that are not one JSON object: not evaluated (the agent ships them as they are). */
  invalidLines: number;
  files: Array<{ file: string; events: number; invalidLines: number }>;
}

export interface Progress {
  file: string;
  bytesRead: number;
  size: number;
  events: number;
}

export interface SimulateOptions {
  onEvent?: (e: PerEvent) => void;
  /** Called about every `progressEveryMs` while a file is read (for the stderr progress line). */
  onProgress?: (p: Progress) => void;
  progressEveryMs?: number;
}

/** Throws a TailshipError (TAILSHIP_E_POLICY_LOG_UNREADABLE) unless every file can be read. */
export function checkReadable(files: string[]): void {
  for (const f of files) {
    try {
      const st = statSync(f);
      if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
      closeSync(openSync(f, 'r'));
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new TailshipError(ErrorCodes.POLICY_LOG_UNREADABLE, `cannot read the audit log ${f}: ${err.code ?? err.message}`, 'give readable audit log files (plain or .gz)');
    }
  }
}

function isGzip(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(2);
    return readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

export async function simulate(evaluator: Evaluator, files: string[], opts: SimulateOptions = {}): Promise<SimulationResult> {
  checkReadable(files);
  const n = evaluator.policy.rules.length;
  const zero = (rule: number | null): RuleCounts => ({ rule, events: 0, kept: 0, bytesIn: 0, bytesOut: 0 });
  const rules = Array.from({ length: n }, (_, i) => zero(i));
  const unmatched = zero(null);
  const result: SimulationResult = { rules: [...rules, unmatched], total: { events: 0, kept: 0, bytesIn: 0, bytesOut: 0 }, droppedByStage: 0, invalidLines: 0, files: [] };
  for (const file of files) {
    const entry = { file, events: 0, invalidLines: 0 };
    result.files.push(entry);
    const onLine = (line: string): void => {
      if (line.length === 0) return;
      const ev = parseLine(line, false, true, 0);
      if (!ev.isObject) {
        entry.invalidLines++;
        result.invalidLines++;
        return;
      }
      const r = applyPolicy(line, evaluator);
      const c = r.decision.rule >= 0 ? rules[r.decision.rule]! : unmatched;
      const inBytes = Buffer.byteLength(line);
      const outBytes = r.out === undefined ? 0 : r.out === line ? inBytes : Buffer.byteLength(r.out);
      const kept = r.out !== undefined;
      for (const t of [c, result.total]) {
        t.events++;
        t.bytesIn += inBytes;
        t.bytesOut += outBytes;
        if (kept) t.kept++;
      }
      if (r.dropped === 'stage') result.droppedByStage++;
      entry.events++;
      opts.onEvent?.({ auditID: r.auditID, stage: r.stage, rule: r.decision.rule >= 0 ? r.decision.rule : null, level: r.decision.level, kept });
    };
    await readLines(file, onLine, (bytesRead, size) => opts.onProgress?.({ file, bytesRead, size, events: entry.events }), opts.progressEveryMs ?? 1000);
  }
  return result;
}

/** Feeds each line (without `\n` and one trailing `\r`, as the agent frames them) of a plain or gzip file. */
async function readLines(file: string, onLine: (l: string) => void, progress: (read: number, size: number) => void, everyMs: number): Promise<void> {
  const size = statSync(file).size;
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  const gz = isGzip(file);
  const stream = gz ? raw.pipe(createGunzip()) : raw;
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let last = Date.now();
  const emit = (text: string): void => {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const end = nl > start && text.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl;
      onLine(text.slice(start, end));
      start = nl + 1;
    }
    rest = text.slice(start);
  };
  try {
    await new Promise<void>((resolve, reject) => {
      raw.on('error', reject);
      stream.on('error', reject);
      stream.on('data', (chunk: Buffer) => {
        try {
          emit(rest + decoder.write(chunk));
        } catch (e) {
          reject(e);
          raw.destroy();
          return;
        }
        const now = Date.now();
        if (now - last >= everyMs) {
          last = now;
          progress(raw.bytesRead, size);
        }
      });
      stream.on('end', () => resolve());
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err instanceof TailshipError) throw err;
    throw new TailshipError(ErrorCodes.POLICY_LOG_UNREADABLE, `cannot read the audit log ${file}: ${err.code ?? err.message}${gz ? ' (a damaged .gz?)' : ''}`, 'give readable audit log files (plain or .gz)');
  }
  const tail = rest + decoder.end();
  if (tail.length > 0) onLine(tail.endsWith('\r') ? tail.slice(0, -1) : tail);
}
