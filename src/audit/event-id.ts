import { createHash } from 'node:crypto';
import type { ShipEvent } from '../parse/ship-event.js';

/**
 * `__event_id__` (SPEC §10): the hex SHA-256 of `{cluster_id}/{auditID}/{stage}`, or of `{stream}/{offset}` for a
 * line without auditID. The same across retries, restarts and agents, so stores that can dedupe use it.
 */
export function auditEventId(clusterId: string, auditID: string, stage: string): string {
  return sha256Hex(`${clusterId}/${auditID}/${stage}`);
}

/** The id of a line that has no auditID: where it was read. */
export function lineEventId(stream: string, offset: number | string): string {
  return sha256Hex(`${stream}/${offset}`);
}

/** Where an event was read, for an event that carries no `__event_id__` marker yet. */
export interface EventIdContext {
  /** `__cluster_id__` of the batch's tags, or empty. */
  clusterId: string;
  stream: string;
  /** The line's offset, or another position stable across re-reads when the offset is not known. */
  offset: number | string;
}

/**
 * The event's `__event_id__`: its marker when the identity stage set one, else computed from the event's
 * `auditID` and `stage` (a re-parse: only for events that come without the marker).
 */
export function eventIdOf(event: ShipEvent, ctx: EventIdContext): string {
  const marked = event.markers?.__event_id__;
  if (marked) return marked;
  if (event.isObject && event.raw.includes('"auditID"')) {
    try {
      const obj = JSON.parse(event.raw) as { auditID?: unknown; stage?: unknown };
      if (typeof obj.auditID === 'string' && obj.auditID !== '') {
        return auditEventId(ctx.clusterId, obj.auditID, typeof obj.stage === 'string' ? obj.stage : '');
      }
    } catch {
      // not expected for an isObject event; fall back to the position
    }
  }
  return lineEventId(ctx.stream, ctx.offset);
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
