// How far the spool files are acknowledged. In the agent this comes from the ledger; standing alone it is read from
// the checkpoint file on disk (saved every second), which only lags: a backup is deleted a little later, never early.
import path from 'node:path';
import { loadCheckpoints } from '../../checkpoint/checkpoint-store.js';
import type { SpoolProgress } from './spool.js';

export function committedFromCheckpoints(stateDir: string, spoolDir: string, cacheMs = 250): () => SpoolProgress[] {
  const dir = path.resolve(spoolDir);
  let at = 0;
  let last: SpoolProgress[] = [];
  // Asked on every request (is the spool full?): the file is re-read at most every cacheMs (it is saved every second).
  return () => {
    const now = Date.now();
    if (now - at < cacheMs) return last;
    at = now;
    last = loadCheckpoints(stateDir)
      .streams.filter((r) => path.dirname(path.resolve(r.lane)) === dir)
      .map((r) => ({ path: r.file, committed: r.offset, size: r.size, dev: r.dev, ino: r.ino }));
    return last;
  };
}
