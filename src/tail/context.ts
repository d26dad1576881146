import type { StartAt } from '../config/types.js';
import type { StreamRecord } from '../identity/stream-record.js';
import type { RawLine } from '../parse/raw-line.js';
import type { FileTable, Lane } from './file-table.js';
import type { TailFs } from './fs.js';
import type { TailSignals } from './signals.js';

/** How the tailer hands data on, without knowing batches or sinks. */
export interface TailerHooks {
  /** A complete line (or an empty one: `line.text === ''`) of a stream. */
  onLine(lane: Lane, stream: StreamRecord, line: RawLine): void;
  /** A stream starts being read at `offset`; `sealed` are batch ends to reproduce (restart). */
  onStreamOpen(stream: StreamRecord, offset: number, sealed: number[]): void;
  /** A stream will get no more lines: its open batch can be sealed. */
  onStreamEnd(stream: StreamRecord): void;
  /** Reading may go on (the in-flight budget has room). */
  canRead(): boolean;
}

/** What the tailer asks of the acknowledgements (the ack ledger answers). */
export interface StreamAcks {
  /** Acknowledged offset of a stream, if it is tracked. */
  committed(streamId: string): number | undefined;
  /** True when nothing of the stream is sealed but unacknowledged. */
  settled(streamId: string): boolean;
  /** The stream's record is no longer needed: forget its ack state. */
  forget(streamId: string): void;
}

export interface TailSettings {
  startAt: StartAt;
  backfill: boolean;
  maxLineBytes: number;
  /** Bytes one lane may read per pass before others get a turn. */
  passBytes: number;
  lingerMs: number;
}

/** Shared by the tailer's parts (discovery, resume, reading): one table, one file system, one signals sink. */
export interface TailContext {
  o: TailSettings;
  table: FileTable;
  fs: TailFs;
  signals: TailSignals;
  hooks: TailerHooks;
  acks: StreamAcks;
  now: () => number;
  /** The read buffer (plain sources return views of it). */
  scratch: Buffer;
  /**
   * A directory's names, read once per discovery pass (null: unreadable); `fresh` reads it again now (the rest
   * of the pass then sees the new listing).
   */
  listing(dir: string, fresh?: boolean): Promise<string[] | null>;
}
