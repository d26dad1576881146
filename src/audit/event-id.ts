import { hash } from 'node:crypto';
import type { ShipEvent } from '../parse/ship-event.js';
import { spanString } from './json-scan.js';
import { topFields } from './json-top.js';
import { memberString, scanned } from '../parse/top-members.js';

/**
 * `__event_id__` (SPEC §10): the hex SHA-256 of `{cluster_id}/{auditID}/{stage}`, or of `{stream}/{offset}` for a
 * line without auditID. The same across retries, restarts and agents, so stores that can dedupe use it.
 * The one home of that computation: the identity stage (identity.ts) and the sinks' fallback both call it.
 */
export function auditEventId(clusterId: string, auditID: string, stage: string): string {
  return sha256Hex(`${clusterId}/${auditID}/${stage}`);
}

/** The id of a line that has no auditID: where it was read. */
export function lineEventId(stream: string, offset: number | string): string {
  return sha256Hex(`${stream}/${offset}`);
}

/** The event's id computed from its text (its `__event_id__` marker, if any, is not looked at). */
export function computeEventId(event: ShipEvent, clusterId: string, stream: string, offset: number | string): string {
  const ids = event.isObject ? auditIdAndStage(event.raw) : undefined;
  return ids ? auditEventId(clusterId, ids.auditID, ids.stage) : lineEventId(stream, offset);
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
 * The event's `__event_id__`: its marker when the identity stage set one, else computed as the stage would
 * (only for events that come without the marker).
 */
export function eventIdOf(event: ShipEvent, ctx: EventIdContext): string {
  const marked = event.markers?.__event_id__;
  if (marked) return marked;
  return computeEventId(event, ctx.clusterId, ctx.stream, ctx.offset);
}

/** `auditID` (non-empty) and `stage` of an audit event's text, by a scan of its top-level members. */
function auditIdAndStage(raw: string): { auditID: string; stage: string } | undefined {
  if (scanned.raw === raw) {
    // the line just parsed: its member table knows where both are (no walk, no span objects)
    const a = memberString(raw, 'auditID');
    const st = memberString(raw, 'stage');
    if (a !== null && st !== null) return a === undefined || a === '' ? undefined : { auditID: a, stage: st ?? '' };
  }
  const top = topFields(raw);
  if (!top) return undefined;
  const auditID = spanString(raw, top.get('auditID'));
  if (auditID === undefined || auditID === '') return undefined;
  return { auditID, stage: spanString(raw, top.get('stage')) ?? '' };
}

function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex'); // one-shot: a third of createHash's cost per event
}
