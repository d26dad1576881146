import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import path from 'node:path';
import type { StreamRecord } from '../identity/stream-record.js';

export type { StreamRecord };

export const CHECKPOINT_VERSION = 1;
export const CHECKPOINT_FILE = 'checkpoints.json';

export interface CheckpointFile {
  version: number;
  savedAt: number;
  streams: StreamRecord[];
}

export interface LoadResult {
  streams: StreamRecord[];
  /** Set when the file was unreadable or corrupt and we started without it. */
  warning?: string;
}

/** Loads checkpoints; a missing file is a first start, a corrupt or foreign one is a warning, never a crash. */
export function loadCheckpoints(stateDir: string): LoadResult {
  const file = path.join(stateDir, CHECKPOINT_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return { streams: [] };
    return { streams: [], warning: `cannot read ${file}: ${err.message}; starting without checkpoints` };
  }
  try {
    const data = JSON.parse(text) as CheckpointFile;
    if (data?.version !== CHECKPOINT_VERSION || !Array.isArray(data.streams)) {
      return { streams: [], warning: `${file} has unknown version ${String(data?.version)}; starting without checkpoints` };
    }
    return { streams: data.streams.filter(validRecord) };
  } catch (e) {
    return {
      streams: [],
      warning: `${file} is corrupt (${(e as Error).message}); starting without checkpoints — files are read per --start-at`,
    };
  }
}

function validRecord(r: StreamRecord): boolean {
  return (
    typeof r?.id === 'string' &&
    typeof r.lane === 'string' &&
    typeof r.offset === 'number' &&
    typeof r.fp?.hash === 'string' &&
    typeof r.fp.len === 'number'
  );
}

/**
 * Writes the checkpoint file atomically: a temp file, fsync, rename over the old one, fsync of the directory.
 * Writes are serialised; a crash at any point leaves either the old or the new file whole.
 */
export class CheckpointWriter {
  readonly #dir: string;
  readonly #file: string;
  #chain: Promise<void> = Promise.resolve();
  lastSavedAt = 0;

  constructor(stateDir: string) {
    this.#dir = stateDir;
    this.#file = path.join(stateDir, CHECKPOINT_FILE);
    mkdirSync(stateDir, { recursive: true });
  }

  save(streams: StreamRecord[]): Promise<void> {
    const body = JSON.stringify({ version: CHECKPOINT_VERSION, savedAt: Date.now(), streams } satisfies CheckpointFile);
    const run = this.#chain.then(() => this.#write(body));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** For an immediate exit (second signal): the same atomic write, synchronously. */
  saveSync(streams: StreamRecord[]): void {
    const tmp = `${this.#file}.tmp-exit`; // not the async writer's temp file, which may be half-written right now
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify({ version: CHECKPOINT_VERSION, savedAt: Date.now(), streams } satisfies CheckpointFile));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.#file);
  }

  async #write(body: string): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    const tmp = `${this.#file}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(body);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.#file);
    const dir = await open(this.#dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    this.lastSavedAt = Date.now();
  }
}
