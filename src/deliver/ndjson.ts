import type { Batch } from '../batch/batch.js';
import { renderWhole, type BodyRender } from './body-render.js';
import { type BodyWriter, LOG_OVERHEAD_BYTES, renderLog, tagJsonWith, tagObjectJson, writeLogInSlices } from './render.js';

// The NDJSON form of a batch, shared by `file:`, `stdout:` and the dead-letter spool (one log per line).

/**
 * The NDJSON text of a batch as `file:`, `stdout:` and the dead-letter spool write it: one log per line, each
 * with `__time__` and a `__tag__` object of all tags (SPEC §3). The batch's shared tags are serialised once;
 * only a log with its own markers pays for a merged object.
 */
export function batchNdjson(batch: Batch): string {
  const shared = tagObjectJson(batch.tags, undefined);
  let out = '';
  for (const event of batch.events) {
    out += renderLog(event, event.markers ? tagObjectJson(batch.tags, event.markers) : shared);
    out += '\n';
  }
  return out;
}

/** The bytes of `batchNdjson(batch)`, encoded straight into one buffer (the hot path: no joined string). */
export function batchNdjsonBytes(batch: Batch): Buffer {
  return batchNdjsonWriter(batch).bytes();
}

export function batchNdjsonWriter(batch: Batch): BodyWriter {
  return renderWhole(NDJSON_BODY, batch);
}

/** The NDJSON body as a BodyRender: whole (above) or a piece at a time (the `file:` sink's streamed append). */
export const NDJSON_BODY: BodyRender = {
  sizeHint: (batch) => batch.rawBytes + batch.events.length * (LOG_OVERHEAD_BYTES + (tagObjectJson(batch.tags, undefined)?.length ?? 0)) + 16,
  *write(batch, w) {
    const shared = tagObjectJson(batch.tags, undefined);
    for (const event of batch.events) {
      const tag = tagJsonWith(batch.tags, shared, event.markers);
      const slices = writeLogInSlices(w, event, tag);
      if (slices) yield* slices;
      w.write('\n');
      yield;
    }
  },
};

/** A logstore name made safe as a file name (no `/`, no leading dot): itself when harmless, else `_` for the rest. */
export function logstoreFileStem(logstore: string): string {
  const stem = logstore.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\./, '_');
  return stem === '' ? '_' : stem;
}

