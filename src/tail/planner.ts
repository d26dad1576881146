import { fingerprintOf, type Fingerprint } from '../identity/fingerprint.js';
import type { StreamRecord } from '../identity/stream-record.js';
import type { FileStat } from './fs.js';
import { identify, type Seen } from './identify.js';

// The pure half of the tailer: what a poll saw (directory entries, stats, heads) plus the file table's records
// in, actions out. No I/O, no clock, no ids: the tailer executes the actions (tail/tailer.ts), the tests feed
// observations (test/unit/tail/planner.test.ts).

/** A lumberjack backup of a lane as one poll saw it; `seen` is absent when it could not be opened. */
export interface BackupSeen {
  file: string;
  gz: boolean;
  seen?: Seen;
  /** Why it could not be opened. */
  error?: string;
}

/** The lane's active path as one poll saw it. */
export interface ActiveSeen {
  seen?: Seen & { st: FileStat };
  /** errno code and message when it could not be opened (ENOENT: not there). */
  code?: string;
  error?: string;
}

/** A record to create (the tailer gives it an id and a time). */
export interface NewFile {
  file: string;
  gz: boolean;
  st: FileStat;
  fp: Fingerprint;
  offset: number;
  size: number;
  state: StreamRecord['state'];
}

export type ResumeAction =
  /** A checkpointed record whose file is still here: read it from `start` (or keep it, `read` false: done). */
  | { kind: 'resume'; rec: StreamRecord; file: string; gz: boolean; start: number; active: boolean; read: boolean }
  /** A file no record knows: a new record, read from `fresh.offset` unless `read` is false (history skipped). */
  | { kind: 'new'; fresh: NewFile; active: boolean; read: boolean }
  /** A backup that could not be opened: skipped (the next start tries again). */
  | { kind: 'unreadable'; file: string; error: string }
  /** The active file is shorter than its checkpoint: it was truncated while tailship was stopped. */
  | { kind: 'shorter'; rec: StreamRecord; size: number }
  /** The active file exists but cannot be opened. */
  | { kind: 'cannot-open'; error: string }
  /** A checkpointed record whose file is gone unread: `bytes` known lost, undefined when the amount is unknown. */
  | { kind: 'lost'; rec: StreamRecord; bytes: number | undefined }
  /** A rotated file read and acknowledged to its end, deleted while tailship was stopped: no loss. */
  | { kind: 'gone-read'; rec: StreamRecord };

export interface ResumeInput {
  /** Checkpointed records of this lane (none: tailship never saw it). */
  records: StreamRecord[];
  /** Backups, oldest first, `.gz` whose plain twin exists already left out. */
  backups: BackupSeen[];
  active: ActiveSeen;
  /** The agent's first discovery pass (not a lane that appears later). */
  startup: boolean;
  backfill: boolean;
  startAt: 'beginning' | 'end';
}

const NO_STAT: FileStat = { dev: 0, ino: 0, size: 0 };

/** On first sight of a lane: resume checkpointed streams, then newer backups, then the active file. */
export function planResume(p: ResumeInput): ResumeAction[] {
  const out: ResumeAction[] = [];
  const unmatched = new Set(p.records);
  const firstStart = p.records.length === 0;
  const take = (seen: Seen): StreamRecord | undefined => {
    const r = identify(unmatched, seen, true);
    if (r) unmatched.delete(r);
    return r;
  };
  for (const b of p.backups) {
    if (!b.seen) {
      out.push({ kind: 'unreadable', file: b.file, error: b.error ?? 'unreadable' });
      continue;
    }
    const st = b.seen.st;
    const rec = take(b.seen);
    if (rec) {
      const done = rec.state === 'done' && (!st || rec.offset >= st.size);
      out.push({ kind: 'resume', rec, file: b.file, gz: b.gz, start: rec.offset, active: false, read: !done });
      continue;
    }
    const size = st?.size ?? 0;
    // History that existed before tailship was set up: known, never read (use --backfill to ship it).
    const skip = firstStart && p.startup && !p.backfill;
    const fresh: NewFile = { file: b.file, gz: b.gz, st: st ?? NO_STAT, fp: fingerprintOf(b.seen.head), offset: skip ? size : 0, size: skip ? size : (st ?? NO_STAT).size, state: skip ? 'done' : 'rotated' };
    out.push({ kind: 'new', fresh, active: false, read: !skip });
  }
  const a = p.active.seen;
  if (a) {
    const rec = take(a);
    if (rec && rec.offset <= a.st.size) {
      out.push({ kind: 'resume', rec, file: '', gz: false, start: rec.offset, active: true, read: true });
    } else {
      if (rec) out.push({ kind: 'shorter', rec, size: a.st.size });
      const start = firstStart && p.startup && p.startAt === 'end' ? a.st.size : 0;
      out.push({ kind: 'new', fresh: { file: '', gz: false, st: a.st, fp: fingerprintOf(a.head), offset: start, size: a.st.size, state: 'active' }, active: true, read: true });
    }
  } else if (p.active.code !== 'ENOENT' && p.active.error !== undefined) {
    out.push({ kind: 'cannot-open', error: p.active.error });
  }
  for (const r of unmatched) {
    if (r.state === 'done') continue;
    // A rotated file no longer grows: committed to the size last seen is read to its end. The active file may
    // have grown after the last checkpoint: what was written then is unknown (a loss of unknown size).
    const known = Math.max(0, r.size - r.offset);
    if (known === 0 && r.state === 'rotated') out.push({ kind: 'gone-read', rec: r });
    else out.push({ kind: 'lost', rec: r, bytes: known > 0 ? known : undefined });
  }
  return out;
}

export type AdoptAction =
  /** A known record seen under a backup name: relabel it; `wasActive`: it was the active stream (renamed since). */
  | { kind: 'renamed'; rec: StreamRecord; file: string; wasActive: boolean }
  /** A backup nobody has seen: new content, read from 0 before the new active file. */
  | { kind: 'new'; fresh: NewFile };

/**
 * Backups nobody has seen as the active file: when the writer rotates several times between two polls, the
 * files created and renamed in between are known only as backups. `backups` are the lane's backups not known by
 * name (oldest first, `.gz` whose plain twin is present or known left out).
 */
export function planAdopt(records: StreamRecord[], backups: Array<BackupSeen & { seen: Seen }>, activeId: string | undefined): AdoptAction[] {
  const out: AdoptAction[] = [];
  for (const b of backups) {
    const rec = identify(records, b.seen, false);
    if (rec) {
      out.push({ kind: 'renamed', rec, file: b.file, wasActive: rec.id === activeId });
      continue;
    }
    const st = b.seen.st ?? NO_STAT;
    out.push({ kind: 'new', fresh: { file: b.file, gz: b.gz, st, fp: fingerprintOf(b.seen.head), offset: 0, size: st.size, state: 'rotated' } });
  }
  return out;
}

/**
 * The active stream on a poll: `rotated` when its path now names another file (or none), `truncated` when the
 * file is shorter than what was read, `check-content` when only its head can tell (rewritten in place).
 */
export function checkActive(pathSt: FileStat | undefined, held: FileStat, position: number): 'rotated' | 'truncated' | 'check-content' {
  if (!pathSt || pathSt.ino !== held.ino || pathSt.dev !== held.dev) return 'rotated';
  if (held.size < position) return 'truncated';
  return 'check-content';
}

/** A rotated file read to its end, fd kept for a late writer: read again if it grew, close once quiet. */
export function checkLingering(size: number, position: number, now: number, until: number): 'grew' | 'finish' | 'wait' {
  if (size > position) return 'grew';
  return now >= until ? 'finish' : 'wait';
}
