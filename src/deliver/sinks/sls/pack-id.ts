import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { Batch } from '../../../batch/batch.js';

/** `__pack_id__` = 16 hex of a source hash, `-`, hex sequence: room for the longest sequence. */
export const PACK_ID_RESERVE = '0123456789ABCDEF-FFFFFFFFFFFFF';

export interface PackSource {
  prefix: string;
  next: number;
}

/**
 * Pack ids (`__pack_id__`, research §3.9) power SLS context browsing: one prefix per source file and agent
 * run (hash of project, logstore, input, path, host, pid and start time), a sequence that grows by one per
 * LogGroup. Returns the pack source of a batch, made on first use.
 */
export function createPackSources(startedAt: number): (project: string, batch: Batch) => PackSource {
  const packs = new Map<string, PackSource>();
  return (project, batch) => {
    const key = `${project}\n${batch.logstore}\n${batch.inputKey}\n${batch.tags.__path__ ?? batch.range.stream}`;
    let pack = packs.get(key);
    if (!pack) {
      const prefix = createHash('md5')
        .update(`${key}\n${hostname()}\n${process.pid}\n${startedAt}`)
        .digest('hex')
        .slice(0, 16)
        .toUpperCase();
      pack = { prefix, next: 0 };
      packs.set(key, pack);
    }
    return pack;
  };
}

/** The `__pack_id__` of the `seq`th LogGroup of a pack source. */
export function packId(pack: PackSource, seq: number): string {
  return `${pack.prefix}-${seq.toString(16).toUpperCase()}`;
}
