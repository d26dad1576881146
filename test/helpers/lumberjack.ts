// A writer that rotates exactly like gopkg.in/natefinch/lumberjack.v2 (v2.2.1), the library behind
// kube-apiserver's --audit-log-path (research/tailers-audit.md §2.2). Scenario tests drive the tailer with it,
// so every step a tailer can observe happens in the same order and with the same syscalls:
//   write:  rotate BEFORE a write that would exceed maxsize; one write(2) per event
//   rotate: close → rename(cur, <prefix>-<UTC 2006-01-02T15-04-05.000><ext>) → create cur (O_CREAT|O_TRUNC,
//           old mode) → open it again O_TRUNC → mill (async)
//   mill:   remove backups beyond maxBackups (x and x.gz count once, newest by name timestamp kept), then gzip
//           every remaining plain backup: create x.gz, fill it, close it, only then unlink x.
// Differences, on purpose: backup names are made unique (real lumberjack overwrites a backup made in the same
// millisecond, which a fast test would otherwise hit), and the mill can be paused at its observable steps.
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

const gzip = promisify(zlib.gzip);

export interface MillStep {
  /** The plain backup being compressed. */
  plain: string;
  /** Its `.gz`. */
  gz: string;
}

/** Pause points of the mill; a hook that returns a promise holds the mill there until it settles. */
export interface MillHooks {
  /** `.gz` exists and holds part of the compressed bytes; the plain backup is still there. */
  gzPartial?: (step: MillStep) => void | Promise<void>;
  /** `.gz` is complete and closed; the plain backup is not yet removed ("plain and gz both present"). */
  gzComplete?: (step: MillStep) => void | Promise<void>;
  /** The plain backup was removed after compression. */
  compressed?: (step: MillStep) => void | Promise<void>;
  /** A backup (plain or .gz) was removed because it was beyond maxBackups. */
  removed?: (file: string) => void | Promise<void>;
}

export interface LumberjackOptions {
  /** The active file, e.g. `/var/log/kubernetes/kubernetes.audit`. */
  path: string;
  /** lumberjack MaxSize, but in bytes (the API server gives MiB); a write larger than this is refused. */
  maxSizeBytes: number;
  /** lumberjack MaxBackups; 0 keeps all (and, without compress, the mill does nothing). */
  maxBackups: number;
  /** lumberjack Compress. */
  compress: boolean;
  /** Clock for backup names (UTC). Default: the wall clock. */
  now?: () => Date;
  hooks?: MillHooks;
}

export interface Rotation {
  /** Backup name the active file was renamed to. */
  backup: string;
  /** Bytes the file had when it was renamed. */
  size: number;
}

export interface Lumberjack {
  readonly path: string;
  /** Bytes in the active file, as lumberjack counts them. */
  readonly size: number;
  /** Every rename so far, oldest first. */
  readonly rotations: readonly Rotation[];
  /** Backups removed by maxBackups, in the order they were removed. */
  readonly removed: readonly string[];
  /** One Write: rotates first if `size + len` would exceed maxSizeBytes, then one write(2). */
  write(data: string | Buffer): void;
  /** lumberjack Rotate(): close, rename, create, then start the mill (not awaited: use millIdle()). */
  rotate(): void;
  /** Resolves once the mill has nothing left to do (also after hooks released it). */
  millIdle(): Promise<void>;
  /** The backups in the directory, newest first by name timestamp (what the mill sees). */
  backups(): string[];
  /** Closes the file and waits for the mill. */
  close(): Promise<void>;
}

const BACKUP_TS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})\.(\d{3})$/;

/** `2006-01-02T15-04-05.000` in UTC. */
export function backupTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2006-01-02T15:04:05.000Z
  return `${iso.slice(0, 10)}T${iso.slice(11, 13)}-${iso.slice(14, 16)}-${iso.slice(17, 23)}`;
}

/** Name parts of an active file: `kubernetes.audit` → prefix `kubernetes-`, ext `.audit` (lumberjack prefixAndExt). */
export function prefixAndExt(file: string): { dir: string; prefix: string; ext: string } {
  const base = path.basename(file);
  const ext = path.extname(base);
  return { dir: path.dirname(file), prefix: `${base.slice(0, base.length - ext.length)}-`, ext };
}

/** lumberjack backupName(): `<dir>/<prefix><timestamp><ext>`. */
export function backupName(file: string, ms: number): string {
  const { dir, prefix, ext } = prefixAndExt(file);
  return path.join(dir, `${prefix}${backupTimestamp(ms)}${ext}`);
}

/** Parses the timestamp of a backup name of `file` (plain or .gz); undefined when it is not one. */
export function backupTime(file: string, candidate: string): number | undefined {
  const { prefix, ext } = prefixAndExt(file);
  let name = path.basename(candidate);
  if (name.endsWith('.gz')) name = name.slice(0, -3);
  if (!name.startsWith(prefix) || !name.endsWith(ext)) return undefined;
  const ts = name.slice(prefix.length, name.length - ext.length);
  const m = BACKUP_TS.exec(ts);
  if (!m) return undefined;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!);
  return backupTimestamp(ms) === ts ? ms : undefined;
}

export function createLumberjack(opts: LumberjackOptions): Lumberjack {
  const file = path.resolve(opts.path);
  const dir = path.dirname(file);
  const now = opts.now ?? (() => new Date());
  const hooks = opts.hooks ?? {};
  const rotations: Rotation[] = [];
  const removed: string[] = [];
  let fd: number | null = null;
  let size = 0;
  let lastBackupMs = -Infinity;
  let closed = false;

  // The mill goroutine fed by a 1-slot channel: triggers while it runs coalesce into one more run.
  let millRunning: Promise<void> | null = null;
  let millAgain = false;
  let millError: unknown;

  const uniqueBackupName = (): string => {
    // Advance our own clock past the last backup (and past any backup already on disk): never overwrite one.
    let ms = Math.max(now().getTime(), lastBackupMs + 1);
    while (fs.existsSync(backupName(file, ms)) || fs.existsSync(`${backupName(file, ms)}.gz`)) ms++;
    lastBackupMs = ms;
    return backupName(file, ms);
  };

  const openNew = (): void => {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    let mode = 0o600;
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (st) {
      mode = st.mode & 0o7777;
      const backup = uniqueBackupName();
      fs.renameSync(file, backup);
      rotations.push({ backup, size: st.size });
      // chown(name, info) on Linux: the new, empty file appears here, with the old mode and owner.
      fs.closeSync(fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_WRONLY | fs.constants.O_TRUNC, mode));
      fs.chownSync(file, st.uid, st.gid);
    }
    fd = fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_WRONLY | fs.constants.O_TRUNC, mode);
    size = 0;
  };

  const closeFile = (): void => {
    if (fd !== null) {
      fs.closeSync(fd);
      fd = null;
    }
  };

  const rotateNow = (): void => {
    closeFile();
    openNew();
    triggerMill();
  };

  const openExistingOrNew = (writeLen: number): void => {
    triggerMill();
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      openNew();
      return;
    }
    if (st.size + writeLen >= opts.maxSizeBytes) {
      rotateNow();
      return;
    }
    // An API server restart appends to the same inode.
    fd = fs.openSync(file, fs.constants.O_APPEND | fs.constants.O_WRONLY, 0o644);
    size = st.size;
  };

  /** oldLogFiles(): backups of `file` in the directory, newest first by the timestamp in the name. */
  const oldLogFiles = (): Array<{ name: string; ms: number }> => {
    const out: Array<{ name: string; ms: number }> = [];
    for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!ent.isFile()) continue;
      const ms = backupTime(file, ent.name);
      if (ms !== undefined) out.push({ name: ent.name, ms });
    }
    return out.sort((a, b) => b.ms - a.ms);
  };

  const compressLogFile = async (src: string, dst: string): Promise<void> => {
    const st = fs.statSync(src);
    const data = fs.readFileSync(src);
    const packed = await gzip(data);
    // chown(dst, fi) creates the .gz first; then it is filled while the plain backup still exists.
    let out = fs.openSync(dst, fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_WRONLY, st.mode & 0o7777);
    try {
      const half = Math.floor(packed.length / 2);
      writeAll(out, packed.subarray(0, half));
      await hooks.gzPartial?.({ plain: src, gz: dst });
      writeAll(out, packed.subarray(half));
    } catch (err) {
      fs.closeSync(out);
      out = -1;
      fs.rmSync(dst, { force: true });
      throw err;
    } finally {
      if (out >= 0) fs.closeSync(out);
    }
    await hooks.gzComplete?.({ plain: src, gz: dst });
    fs.unlinkSync(src);
    await hooks.compressed?.({ plain: src, gz: dst });
  };

  const millRunOnce = async (): Promise<void> => {
    if (opts.maxBackups === 0 && !opts.compress) return;
    let files = oldLogFiles();
    const remove: string[] = [];
    if (opts.maxBackups > 0) {
      const preserved = new Set<string>();
      const remaining: typeof files = [];
      for (const f of files) {
        preserved.add(f.name.endsWith('.gz') ? f.name.slice(0, -3) : f.name);
        if (preserved.size > opts.maxBackups) remove.push(f.name);
        else remaining.push(f);
      }
      files = remaining;
    }
    const toCompress = opts.compress ? files.filter((f) => !f.name.endsWith('.gz')).map((f) => f.name) : [];
    for (const name of remove) {
      const p = path.join(dir, name);
      fs.rmSync(p, { force: true });
      removed.push(p);
      await hooks.removed?.(p);
    }
    for (const name of toCompress) {
      const p = path.join(dir, name);
      await compressLogFile(p, `${p}.gz`);
    }
  };

  function triggerMill(): void {
    if (millRunning) {
      millAgain = true;
      return;
    }
    millRunning = (async () => {
      do {
        millAgain = false;
        try {
          await millRunOnce();
        } catch (err) {
          millError = err;
        }
      } while (millAgain);
    })().finally(() => {
      millRunning = null;
    });
  }

  return {
    path: file,
    get size() {
      return size;
    },
    rotations,
    removed,
    write(data) {
      if (closed) throw new Error('lumberjack writer is closed');
      const buf = typeof data === 'string' ? Buffer.from(data) : data;
      if (buf.length > opts.maxSizeBytes) {
        throw new Error(`write length ${buf.length} exceeds maximum file size ${opts.maxSizeBytes}`);
      }
      if (fd === null) openExistingOrNew(buf.length);
      if (size + buf.length > opts.maxSizeBytes) rotateNow();
      writeAll(fd!, buf);
      size += buf.length;
    },
    rotate() {
      if (closed) throw new Error('lumberjack writer is closed');
      rotateNow();
    },
    async millIdle() {
      while (millRunning) await millRunning;
      if (millError) {
        const err = millError;
        millError = undefined;
        throw err;
      }
    },
    backups() {
      return oldLogFiles().map((f) => path.join(dir, f.name));
    },
    async close() {
      closed = true;
      closeFile();
      while (millRunning) await millRunning;
      if (millError) throw millError;
    },
  };
}

/** write(2) until done; for a regular file this is a single call. */
function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
}
