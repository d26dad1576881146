import { readFileSync } from 'node:fs';
import type { DedupeWindow } from './dedupe.js';
import { keyHash } from './dedupe.js';

/** Keys of every event still in the spool files: a crash between the spool write and the key file loses none. */
export function reconcileKeys(files: readonly { path: string }[], dedupe: DedupeWindow): void {
  const missing: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f.path, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        const o = JSON.parse(line) as { auditID?: unknown; stage?: unknown };
        const h = keyHash(`${String(o.auditID)}\u0000${String(o.stage)}`);
        if (!dedupe.has(h)) missing.push(h);
      } catch {
        // not ours to judge: the tailer ships it as a parse error
      }
    }
  }
  if (missing.length > 0) {
    dedupe.add(missing);
    dedupe.persist(missing);
    dedupe.sync();
  }
}
