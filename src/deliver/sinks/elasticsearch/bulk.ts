import type { Batch } from '../../../batch/batch.js';
import type { ShipEvent } from '../../../parse/ship-event.js';
import { eventIdOf, renderEvent, type SchemaChoice } from '../../../schema/index.js';

/** One document of a `_bulk` request: the event's index in its batch and its `_id`. */
export interface BulkDoc {
  index: number;
  id: string;
}

/**
 * The `_bulk` NDJSON body (Elasticsearch bulk API): for each event an action line
 * `{"create":{"_index":…,"_id":…}}` and the document line, each ending in `\n` (the last one too: Elasticsearch
 * refuses a body without the final newline). `create` with `_id` = `__event_id__` makes a resend a 409.
 */
export function bulkBody(batch: Batch, pick: readonly number[], index: string, schema: SchemaChoice): { body: Buffer; docs: BulkDoc[] } {
  const parts: string[] = [];
  const docs: BulkDoc[] = [];
  const target = JSON.stringify(index.replace('{logstore}', batch.logstore));
  for (const i of pick) {
    const event: ShipEvent = batch.events[i]!;
    const id = eventIdOf(event, batch.tags);
    docs.push({ index: i, id });
    parts.push(`{"create":{"_index":${target},"_id":${JSON.stringify(id)}}}\n`, renderEvent(schema, event, batch.tags, id), '\n');
  }
  return { body: Buffer.from(parts.join('')), docs };
}

export type ItemVerdict =
  | { kind: 'ok' }
  /** 409: a document with this `_id` is there already: the event was indexed before (a resend). */
  | { kind: 'duplicate' }
  | { kind: 'retry'; status: number; reason: string }
  | { kind: 'reject'; status: number; type: string; reason: string };

interface BulkItem {
  status?: number;
  _id?: string;
  error?: { type?: string; reason?: string; caused_by?: { type?: string; reason?: string } } | string;
}

/**
 * Reads a `_bulk` answer item by item (`items[i]` answers the i-th action). Returns undefined when the answer is
 * not one (not JSON, or not one item per document): the caller then retries the documents as a whole.
 */
export function readBulkResponse(text: string, count: number): ItemVerdict[] | undefined {
  let parsed: { errors?: boolean; items?: Array<Record<string, BulkItem>> };
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!parsed || !Array.isArray(parsed.items) || parsed.items.length !== count) return undefined;
  return parsed.items.map((wrapped): ItemVerdict => {
    const item = wrapped && typeof wrapped === 'object' ? Object.values(wrapped)[0] : undefined;
    const status = typeof item?.status === 'number' ? item.status : 0;
    if (status >= 200 && status < 300) return { kind: 'ok' };
    if (status === 409) return { kind: 'duplicate' };
    const err = item?.error;
    const type = typeof err === 'object' ? err?.type ?? 'unknown' : 'unknown';
    const reason = typeof err === 'string' ? err : [err?.type, err?.reason, err?.caused_by?.reason].filter(Boolean).join(': ') || `status ${status}`;
    if (status === 429 || status >= 500 || status === 0) return { kind: 'retry', status, reason };
    return { kind: 'reject', status, type, reason };
  });
}
