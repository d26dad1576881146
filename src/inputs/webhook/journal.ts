// The spool's write-ahead journal: the group being appended, whole, with where it goes. See spool.ts.
import { createHash } from 'node:crypto';
import { closeSync, fdatasyncSync, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../observe/log.js';

export interface JournalHeader {
  /** The spool file name the group is appended to, and its inode (a rotated-away name is never rewritten). */
  file: string;
  ino: number;
  offset: number;
  length: number;
  sha256: string;
}

/** Redo the last group if its journal is complete (writes the same bytes at the same offset again). */
export function redoJournal(dir: string, journalPath: string, logger: Logger): void {
  let buf: Buffer;
  try {
    buf = readFileSync(journalPath);
  } catch {
    return;
  }
  const nl = buf.indexOf(0x0a);
  if (nl < 0) return;
  let h: JournalHeader;
  try {
    h = JSON.parse(buf.toString('utf8', 0, nl)) as JournalHeader;
  } catch {
    return;
  }
  const data = buf.subarray(nl + 1, nl + 1 + h.length);
  if (data.length !== h.length || createHash('sha256').update(data).digest('hex') !== h.sha256) return; // torn: never applied
  const target = path.join(dir, h.file);
  let fd: number;
  try {
    fd = openSync(target, 'r+');
  } catch {
    return;
  }
  try {
    if (fstatSync(fd).ino !== h.ino) return; // rotated since: that group was complete
    let done = 0;
    while (done < data.length) done += writeSync(fd, data, done, data.length - done, h.offset + done);
    fdatasyncSync(fd);
    logger.info({ file: target, offset: h.offset, bytes: h.length }, 'webhook spool: completed the last group written before the stop');
  } finally {
    closeSync(fd);
  }
}

