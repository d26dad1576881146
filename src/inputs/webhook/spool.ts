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
import {
  closeSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { backupNameFor, isBackupOf } from '../../discover/rotation-names.js';
import type { Logger } from '../../observe/log.js';
import type { DedupeWindow } from './dedupe.js';
import { keyHash } from './dedupe.js';
import { redoJournal, type JournalHeader } from './journal.js';

export const ACTIVE_NAME = 'audit.log';
const JOURNAL_NAME = 'journal';

/** What the checkpoints say about one spool file: bytes acknowledged (`committed`) of `size`. */
export interface SpoolProgress {
  path: string;
  committed: number;
  size?: number;
  dev?: number;
  ino?: number;
}

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

interface FileState {
  path: string;
  ino: number;
  size: number;
  rotatedAt: number;
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
  #closed = false;

  constructor(o: SpoolOptions) {
    this.#o = { deleteGraceMs: 10_000, now: Date.now, ...o };
    mkdirSync(o.dir, { recursive: true, mode: 0o700 });
    this.#activePath = path.join(o.dir, ACTIVE_NAME);
    this.#journalPath = path.join(o.dir, JOURNAL_NAME);
    redoJournal(this.#o.dir, this.#journalPath, this.#o.logger);
    this.#active = this.#openActive();
    for (const name of readdirSync(o.dir).sort()) {
      if (!isBackupOf(name, ACTIVE_NAME)) continue;
      const p = path.join(o.dir, name);
      const st = statSync(p);
      this.#backups.push({ path: p, ino: st.ino, size: st.size, rotatedAt: st.mtimeMs });
    }
    this.#reconcileKeys();
  }

  get activePath(): string {
    return this.#activePath;
  }

  /** Bytes in the spool not acknowledged yet, plus those waiting to be written. */
  unackedBytes(): number {
    const progress = this.#o.committed();
    let total = this.#queuedBytes;
    for (const f of [...this.#backups, this.#active]) total += Math.max(0, f.size - this.#committedOf(f, progress));
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
      if (this.#committedOf(b, progress) >= b.size && now - b.rotatedAt >= this.#o.deleteGraceMs) {
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
    while (this.#writing) await new Promise((r) => setTimeout(r, 5));
    await this.#activeFh?.close().catch(() => undefined);
    await this.#journalFh?.close().catch(() => undefined);
    this.#o.dedupe.close();
  }

  #committedOf(f: FileState, progress: SpoolProgress[]): number {
    let best = 0;
    for (const p of progress) {
      // Name and inode both (conservative): a stale name after a rotation, or an inode reused after a deletion,
      // counts as unacknowledged, which only delays a deletion.
      const same = p.path === f.path && (p.ino === undefined || p.ino === f.ino);
      if (same && p.committed > best) best = p.committed;
    }
    return best;
  }

  async #flush(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
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
    const data = Buffer.allocUnsafe(bytes);
    let at = 0;
    for (const p of group) {
      for (const l of p.lines) {
        at += l.copy(data, at);
        data[at++] = 0x0a;
      }
    }
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
    let when = this.#o.now();
    let target = backupNameFor(this.#activePath, new Date(when));
    while (this.#backups.some((b) => b.path === target) || exists(target)) target = backupNameFor(this.#activePath, new Date(++when));
    await this.#activeFh?.close();
    this.#activeFh = undefined;
    renameSync(this.#activePath, target);
    this.#backups.push({ ...this.#active, path: target, rotatedAt: this.#o.now() });
    this.#active = this.#openActive();
    this.#o.logger.debug({ file: target }, 'webhook spool rotated');
  }

  /** Opens (creating) the active file; a new file and its name are made durable. */
  #openActive(): FileState {
    let fd: number;
    let created = false;
    try {
      fd = openSync(this.#activePath, 'r+');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      fd = openSync(this.#activePath, 'wx+', 0o600);
      created = true;
    }
    try {
      if (created) fsyncSync(fd);
      const st = fstatSync(fd);
      if (created) syncDir(this.#o.dir);
      return { path: this.#activePath, ino: st.ino, size: st.size, rotatedAt: 0 };
    } finally {
      closeSync(fd);
    }
  }

  /** Keys of every event still in the spool: a crash between the spool write and the key file loses none. */
  #reconcileKeys(): void {
    const missing: string[] = [];
    for (const f of [...this.#backups, this.#active]) {
      let text: string;
      try {
        text = readFileSync(f.path, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n')) {
        if (line === '') continue;
        try {
          const o = JSON.parse(line) as { auditID?: unknown; stage?: unknown };
          const h = keyHash(`${String(o.auditID)}\u0000${String(o.stage)}`);
          if (!this.#o.dedupe.has(h)) missing.push(h);
        } catch {
          // not ours to judge: the tailer ships it as a parse error
        }
      }
    }
    if (missing.length > 0) {
      this.#o.dedupe.add(missing);
      this.#o.dedupe.persist(missing);
      this.#o.dedupe.sync();
    }
  }
}

async function writeAll(fh: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
