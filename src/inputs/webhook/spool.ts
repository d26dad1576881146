// The webhook's durable spool: `{stateDir}/webhook/audit.log` plus rotated backups `audit-<UTC stamp>.log`, named
// like lumberjack's, so that the ordinary tailer ships it as a file input (offsets, rotation, checkpoints, acks).
//
// Crash atomicity per group of EventLists: the group is first written whole to `journal` (header with target
// file, inode, offset, length and sha256, then the bytes) and fdatasync'd, then appended to the active file and
// fdatasync'd, and only then answered 200. The tailer may read a group while it is appended; if the process dies
// in the middle, the restart finds the journal complete and writes the same bytes at the same offset again, so
// what the tailer saw is always a prefix of what the file will hold. A journal that is not complete means the
// active file was not touched: nothing of that group exists, and its client had no 200.
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, unlinkSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../observe/log.js';
import type { DedupeWindow } from './dedupe.js';
import { redoJournal, type JournalHeader } from './journal.js';
import { committedOf, freeBackupName, listBackups, openActiveFile, writeAll, type FileState, type SpoolProgress } from './spool-files.js';
import { reconcileKeys } from './spool-keys.js';

export type { SpoolProgress };

export const ACTIVE_NAME = 'audit.log';
const JOURNAL_NAME = 'journal';

export interface SpoolOptions {
  dir: string;
  /** The active file is rotated once it is this large. */
  rotateBytes: number;
  /** Unacknowledged bytes over this: the spool is full (429). */
  maxUnackedBytes: number;
  committed: () => SpoolProgress[];
  dedupe: DedupeWindow;
  logger: Logger;
  /** A fully acknowledged backup is deleted this long after its rotation at the earliest (the tailer lingers). */
  deleteGraceMs?: number;
  now?: () => number;
}

interface Pending {
  lines: Buffer[];
  bytes: number;
  hashes: string[];
  resolve: () => void;
  reject: (e: Error) => void;
}

export class Spool {
  readonly #o: Required<SpoolOptions>;
  readonly #activePath: string;
  readonly #journalPath: string;
  #active: FileState;
  #activeFh?: FileHandle;
  #journalFh?: FileHandle;
  #backups: FileState[] = [];
  #queue: Pending[] = [];
  #queuedBytes = 0;
  #writing = false;
  /** The running flush, for close() to wait on (no polling). */
  #flushing: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(o: SpoolOptions) {
    this.#o = { deleteGraceMs: 10_000, now: Date.now, ...o };
    mkdirSync(o.dir, { recursive: true, mode: 0o700 });
    this.#activePath = path.join(o.dir, ACTIVE_NAME);
    this.#journalPath = path.join(o.dir, JOURNAL_NAME);
    redoJournal(this.#o.dir, this.#journalPath, this.#o.logger);
    this.#active = openActiveFile(this.#activePath, this.#o.dir);
    this.#backups = listBackups(o.dir, ACTIVE_NAME);
    reconcileKeys([...this.#backups, this.#active], this.#o.dedupe);
  }

  get activePath(): string {
    return this.#activePath;
  }

  /** Bytes in the spool not acknowledged yet, plus those waiting to be written. */
  unackedBytes(): number {
    const progress = this.#o.committed();
    let total = this.#queuedBytes;
    for (const f of [...this.#backups, this.#active]) total += Math.max(0, f.size - committedOf(f, progress));
    return total;
  }

  full(extra = 0): boolean {
    return this.unackedBytes() + extra > this.#o.maxUnackedBytes;
  }

  /** Appends lines (group commit); resolves once they are durable. The caller has reserved their dedupe keys. */
  append(lines: Buffer[], hashes: string[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('spool closed'));
    let bytes = 0;
    for (const l of lines) bytes += l.length + 1;
    return new Promise((resolve, reject) => {
      this.#queue.push({ lines, bytes, hashes, resolve, reject });
      this.#queuedBytes += bytes;
      void this.#flush();
    });
  }

  /** Deletes backups that are acknowledged to their end (keys made durable first). */
  cleanup(): void {
    const progress = this.#o.committed();
    const now = this.#o.now();
    const keep: FileState[] = [];
    let synced = false;
    for (const b of this.#backups) {
      if (committedOf(b, progress) >= b.size && now - b.rotatedAt >= this.#o.deleteGraceMs) {
        if (!synced) this.#o.dedupe.sync();
        synced = true;
        try {
          unlinkSync(b.path);
          this.#o.logger.debug({ file: b.path }, 'webhook spool file acknowledged to its end: deleted');
          continue;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
          this.#o.logger.warn({ file: b.path, err: (e as Error).message }, 'cannot delete an acknowledged webhook spool file');
        }
      }
      keep.push(b);
    }
    this.#backups = keep;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#flushing;
    await this.#activeFh?.close().catch(() => undefined);
    await this.#journalFh?.close().catch(() => undefined);
    this.#o.dedupe.close();
  }

  #flush(): Promise<void> {
    if (this.#writing) return this.#flushing;
    this.#writing = true;
    this.#flushing = this.#drainQueue();
    return this.#flushing;
  }

  async #drainQueue(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const group = this.#queue;
        this.#queue = [];
        let bytes = 0;
        for (const p of group) bytes += p.bytes;
        try {
          await this.#writeGroup(group, bytes);
          for (const p of group) this.#o.dedupe.persist(p.hashes);
          if (this.#active.size >= this.#o.rotateBytes) await this.#rotate().catch((e: Error) => this.#o.logger.error({ err: e.message, dir: this.#o.dir }, 'cannot rotate the webhook spool; will retry'));
          for (const p of group) p.resolve();
        } catch (e) {
          this.#o.logger.error({ err: (e as Error).message, dir: this.#o.dir }, 'cannot write the webhook spool: answering 503 (check that --state-dir is writable and has space)');
          for (const p of group) p.reject(e as Error);
        } finally {
          this.#queuedBytes -= bytes;
        }
      }
    } finally {
      this.#writing = false;
    }
  }

  async #writeGroup(group: Pending[], bytes: number): Promise<void> {
    const data = joinLines(group, bytes);
    const header: JournalHeader = {
      file: ACTIVE_NAME,
      ino: this.#active.ino,
      offset: this.#active.size,
      length: bytes,
      sha256: createHash('sha256').update(data).digest('hex'),
    };
    this.#journalFh ??= await open(this.#journalPath, 'w', 0o600);
    const head = Buffer.from(`${JSON.stringify(header)}\n`);
    await writeAll(this.#journalFh, head, 0);
    await writeAll(this.#journalFh, data, head.length);
    await this.#journalFh.datasync();
    this.#activeFh ??= await open(this.#activePath, 'r+');
    await writeAll(this.#activeFh, data, header.offset);
    await this.#activeFh.datasync();
    this.#active.size += bytes;
  }

  async #rotate(): Promise<void> {
    const target = freeBackupName(this.#activePath, this.#o.now(), this.#backups);
    await this.#activeFh?.close();
    this.#activeFh = undefined;
    renameSync(this.#activePath, target);
    this.#backups.push({ ...this.#active, path: target, rotatedAt: this.#o.now() });
    this.#active = openActiveFile(this.#activePath, this.#o.dir);
    this.#o.logger.debug({ file: target }, 'webhook spool rotated');
  }
}

/** The lines of a group, each followed by a newline, in one buffer of `bytes`. */
function joinLines(group: Pending[], bytes: number): Buffer {
  const data = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (const p of group) {
    for (const l of p.lines) {
      at += l.copy(data, at);
      data[at++] = 0x0a;
    }
  }
  return data;
}
