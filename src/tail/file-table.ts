import path from 'node:path';
import type { InputSpec } from '../config/types.js';
import { hasGlob } from '../discover/glob.js';
import type { StreamRecord } from '../identity/stream-record.js';
import type { LiveStream } from './stream.js';

/** One active file of an input (the configured path, or one file a glob matched) with its rotated history. */
export interface Lane {
  id: string;
  input: InputSpec;
  /** Host path of the active file. */
  activePath: string;
  /** The path as the input names it (container path for manifest inputs): the `__path__` tag. */
  namedPath: string;
  /** Streams to read, oldest first; the active file's stream is last when there is one. */
  queue: LiveStream[];
  active?: LiveStream;
  lingering: LiveStream[];
  /** The last problem warned about, so that a lasting one is logged once, not every poll. */
  warned?: string;
  /** Checkpoints applied (done once the active file or one of its backups exists). */
  planned: boolean;
  /** Why the active file could not be seen (ENOENT, EACCES…), for the warning. */
  missingCode?: string;
  /** Size of the file at the path while it cannot be opened (its lag: none of it is read). */
  unreadSize?: number;
}

/** How far one file is shipped: the agent handle's `fileProgress()`. */
export interface FileProgress {
  /** The path the file was last seen at (active path, backup name or its `.gz`). */
  path: string;
  /** The stream (file identity) id, as in checkpoints and batch ids. */
  stream: string;
  /** Every byte before this offset is acknowledged by the store. */
  committed: number;
  /** Size last seen (uncompressed bytes for `.gz`). */
  size: number;
}

/**
 * The file table: the one owner of per-file state. Every record known (read, being read, or history kept to
 * recognise files after a restart), the lanes whose queues hold the live entries, and the checkpointed records
 * not yet claimed by a lane (each is claimed once, when its lane is first seen).
 */
export class FileTable {
  readonly lanes = new Map<string, Lane>();
  readonly records = new Map<string, StreamRecord>();
  #restored: StreamRecord[];

  constructor(restored: StreamRecord[]) {
    this.#restored = restored;
  }

  /** The lane of `activePath`, made on first sight. */
  lane(input: InputSpec, activePath: string): Lane {
    const id = `${input.key}\u0000${activePath}`;
    let lane = this.lanes.get(id);
    if (!lane) {
      const namedPath = hasGlob(input.path) ? path.posix.join(path.posix.dirname(input.path), path.basename(activePath)) : input.path;
      lane = { id, input, activePath, namedPath, queue: [], lingering: [], planned: false };
      this.lanes.set(id, lane);
    }
    return lane;
  }

  /** The checkpointed records of a lane, handed out once. */
  claim(lane: Lane): StreamRecord[] {
    const mine = this.#restored.filter((r) => r.lane === lane.activePath && r.input === lane.input.key);
    this.#restored = this.#restored.filter((r) => !mine.includes(r));
    return mine;
  }

  /** A lane stopped (its input removed by a reload): its records wait, like unclaimed checkpoints, for a lane again. */
  unclaim(lane: Lane): void {
    const mine = this.recordsOf(lane);
    for (const r of mine) this.records.delete(r.id);
    this.#restored.push(...mine);
  }

  recordsOf(lane: Lane): StreamRecord[] {
    return [...this.records.values()].filter((r) => r.lane === lane.activePath && r.input === lane.input.key);
  }

  /** Ids of the records with a live entry (queued, active or lingering). */
  liveIds(): Set<string> {
    const live = new Set<string>();
    for (const lane of this.lanes.values()) for (const s of [...lane.queue, ...lane.lingering]) live.add(s.rec.id);
    return live;
  }

  /** The records to persist, offsets taken from the acknowledgements. */
  snapshot(committed: (id: string) => number | undefined, now: number): StreamRecord[] {
    // Records of lanes not seen yet (a file missing for now) are kept as they were loaded.
    const out: StreamRecord[] = [...this.#restored];
    for (const r of this.records.values()) {
      const c = committed(r.id);
      if (c !== undefined && c !== r.offset) {
        r.offset = c;
        r.updatedAt = now;
      }
      out.push({ ...r, sealed: r.sealed });
    }
    return out;
  }

  progress(committed: (id: string) => number | undefined): FileProgress[] {
    return [...this.#restored, ...this.records.values()].map((r) => ({ path: r.file, stream: r.id, committed: committed(r.id) ?? r.offset, size: r.size }));
  }
}
