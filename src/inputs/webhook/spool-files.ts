// The files of the webhook spool as the spool sees them: the active file, its backups, and how much of each the
// checkpoints acknowledge. Plain fs helpers; the Spool (spool.ts) owns the state.
import { closeSync, fstatSync, fsyncSync, openSync, readdirSync, statSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { backupNameFor, isBackupOf } from '../../discover/rotation-names.js';

/** What the checkpoints say about one spool file: bytes acknowledged (`committed`) of `size`. */
export interface SpoolProgress {
  path: string;
  committed: number;
  size?: number;
  dev?: number;
  ino?: number;
}

export interface FileState {
  path: string;
  ino: number;
  size: number;
  rotatedAt: number;
}

/** Opens (creating) the active file; a new file and its name are made durable. */
export function openActiveFile(activePath: string, dir: string): FileState {
  let fd: number;
  let created = false;
  try {
    fd = openSync(activePath, 'r+');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    fd = openSync(activePath, 'wx+', 0o600);
    created = true;
  }
  try {
    if (created) fsyncSync(fd);
    const st = fstatSync(fd);
    if (created) syncDir(dir);
    return { path: activePath, ino: st.ino, size: st.size, rotatedAt: 0 };
  } finally {
    closeSync(fd);
  }
}

/** The backups of `activeName` in `dir`, oldest first; a backup's mtime stands for its rotation time. */
export function listBackups(dir: string, activeName: string): FileState[] {
  const backups: FileState[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!isBackupOf(name, activeName)) continue;
    const p = path.join(dir, name);
    const st = statSync(p);
    backups.push({ path: p, ino: st.ino, size: st.size, rotatedAt: st.mtimeMs });
  }
  return backups;
}

/** Bytes of `f` the checkpoints acknowledge. */
export function committedOf(f: FileState, progress: SpoolProgress[]): number {
  let best = 0;
  for (const p of progress) {
    // Name and inode both (conservative): a stale name after a rotation, or an inode reused after a deletion,
    // counts as unacknowledged, which only delays a deletion.
    const same = p.path === f.path && (p.ino === undefined || p.ino === f.ino);
    if (same && p.committed > best) best = p.committed;
  }
  return best;
}

/** A backup name for the active file rotated at `when` that neither a known backup nor a file on disk has. */
export function freeBackupName(activePath: string, when: number, backups: readonly FileState[]): string {
  let target = backupNameFor(activePath, new Date(when));
  while (backups.some((b) => b.path === target) || exists(target)) target = backupNameFor(activePath, new Date(++when));
  return target;
}

export async function writeAll(fh: FileHandle, data: Buffer, position: number): Promise<void> {
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
