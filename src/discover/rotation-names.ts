import path from 'node:path';

/**
 * lumberjack v2 backup names (research/tailers-audit.md §2.2): `<prefix>-<UTC 2006-01-02T15-04-05.000><ext>`,
 * optionally `.gz`, where `<prefix><ext>` is the active file's name and `<ext>` is its last extension.
 */
const TS = '(\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}\\.\\d{3})';
const BACKUP_RE = new RegExp(`^(.*)-${TS}(\\.[^.]*)?(\\.gz)?$`);

export interface BackupName {
  /** The active file's base name this is a backup of (`kubernetes.audit`). */
  activeBase: string;
  /** The timestamp as written; sorts chronologically as a string. */
  stamp: string;
  gz: boolean;
}

/** Parses a base name as a lumberjack backup; undefined when it is not one. */
export function parseBackupName(base: string): BackupName | undefined {
  const m = BACKUP_RE.exec(base);
  if (!m) return undefined;
  const [, prefix, stamp, ext = '', gz] = m;
  if (!prefix) return undefined;
  return { activeBase: prefix + ext, stamp: stamp!, gz: gz !== undefined };
}

/** True when `base` is a backup of the active file named `activeBase`. */
export function isBackupOf(base: string, activeBase: string): BackupName | undefined {
  const b = parseBackupName(base);
  return b && b.activeBase === activeBase ? b : undefined;
}

/** The backup name lumberjack would give `activePath` at `when` (used by tests and docs). */
export function backupNameFor(activePath: string, when: Date, gz = false): string {
  const dir = path.dirname(activePath);
  const base = path.basename(activePath);
  const ext = path.extname(base);
  const prefix = base.slice(0, base.length - ext.length);
  const stamp = when.toISOString().replace(/:/g, '-').replace('Z', '');
  return path.join(dir, `${prefix}-${stamp}${ext}${gz ? '.gz' : ''}`);
}
