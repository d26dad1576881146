import { matchesHead } from '../identity/fingerprint.js';
import type { StreamRecord } from '../identity/stream-record.js';
import type { FileStat } from './fs.js';

/** What was seen of a file: its stat (none for a `.gz`, whose inode says nothing of the content) and its head. */
export interface Seen {
  st?: FileStat;
  head: Buffer;
}

/**
 * The one identity rule: "is this file that record". A plain file is the record with its device and inode whose
 * fingerprint its head still starts with (a fingerprint grows with the file, so a prefix match is the same file,
 * grown). A `.gz` has no useful inode: its decompressed head alone decides, and an empty fingerprint matches
 * nothing. `byContent` also lets content decide for a plain file whose inode matches no record: at resume
 * (the inode may be new after a copy or a restore); while running a plain file with another inode is another file.
 */
export function identify(records: Iterable<StreamRecord>, seen: Seen, byContent: boolean): StreamRecord | undefined {
  const { st, head } = seen;
  if (st) {
    for (const r of records) if (r.dev === st.dev && r.ino === st.ino && matchesHead(r.fp, head)) return r;
    if (!byContent) return undefined;
  }
  for (const r of records) if (r.fp.len > 0 && matchesHead(r.fp, head)) return r;
  return undefined;
}
