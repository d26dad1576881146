import { createHash } from 'node:crypto';
import { auditEventId } from '../audit/event-id.js';
import { renderLog } from '../deliver/render.js';
import type { ShipEvent } from '../parse/ship-event.js';
import { ErrorCodes, TailshipError } from '../errors.js';
import type { JsonObject, SchemaOptions } from './audit-fields.js';
import { toEcs } from './ecs.js';
import { toOcsf } from './ocsf.js';
import { otelJson, toOtel } from './otel.js';

export type { SchemaOptions } from './audit-fields.js';
export const SCHEMA_NAMES = ['raw', 'ecs', 'ocsf', 'otel'] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];

/** The shape a sink sends its events in (SPEC §10 `?schema=`, `?bodies=`). */
export interface SchemaChoice extends SchemaOptions {
  schema: SchemaName;
}

/**
 * Reads `?schema=` and `?bodies=` of a sink URI and takes them out of it (they are tailship's, not the store's).
 * Throws a TailshipError (TAILSHIP_E_SINK_SCHEMA_INVALID) that names the accepted values.
 */
export function takeSchemaParams(url: URL, fallback: SchemaName = 'raw'): SchemaChoice {
  const q = url.searchParams;
  const schema = q.get('schema') ?? fallback;
  const bodies = q.get('bodies') ?? 'string';
  q.delete('schema');
  q.delete('bodies');
  if (!(SCHEMA_NAMES as readonly string[]).includes(schema)) {
    throw new TailshipError(ErrorCodes.SINK_SCHEMA_INVALID, `sink ?schema=${schema} is not known; use ?schema=${SCHEMA_NAMES.join(', ?schema=')}`, `use ?schema=${SCHEMA_NAMES.join(', ?schema=')}`);
  }
  if (bodies !== 'string' && bodies !== 'object') {
    throw new TailshipError(ErrorCodes.SINK_SCHEMA_INVALID, `sink ?bodies=${bodies} is not known; use ?bodies=string or ?bodies=object`, 'use ?bodies=string (default: request/response objects as one JSON string) or ?bodies=object');
  }
  return { schema: schema as SchemaName, bodies };
}

/**
 * `__event_id__` of an event (SPEC §10): the per-log marker when the identity stage set it; else the same hash
 * computed here from `{cluster_id}/{auditID}/{stage}`; for a line without auditID, of the line itself (its
 * stream and offset are not known this late, and the same line gives the same id on every retry).
 */
export function eventIdOf(event: ShipEvent, tags: Readonly<Record<string, string>>): string {
  const marked = event.markers?.__event_id__;
  if (marked) return marked;
  if (event.isObject) {
    const m = /"auditID"\s*:\s*"([^"\\]*)"/.exec(event.raw);
    if (m) {
      const stage = /"stage"\s*:\s*"([^"\\]*)"/.exec(event.raw)?.[1];
      return auditEventId(tags.__cluster_id__ ?? '', m[1]!, stage ?? '');
    }
  }
  return createHash('sha256').update(`line/${event.raw}`).digest('hex');
}

/** The event as a document of the schema (raw: the SPEC §3 log object with `__time__` and `__tag__`). */
export function schemaDocument(choice: SchemaChoice, event: ShipEvent, tags: Readonly<Record<string, string>>, eventId = eventIdOf(event, tags)): JsonObject {
  const input = { event, tags, eventId };
  switch (choice.schema) {
    case 'ecs':
      return toEcs(input, choice);
    case 'ocsf':
      return toOcsf(input, choice);
    case 'otel':
      return otelJson(toOtel(input));
    case 'raw':
      return JSON.parse(renderRaw(event)) as JsonObject;
  }
}

/** The event as JSON text in the schema: for `raw` the log of SPEC §3 (string concatenation, no re-parse). */
export function renderEvent(choice: SchemaChoice, event: ShipEvent, tags: Readonly<Record<string, string>>, eventId?: string): string {
  if (choice.schema === 'raw') return renderRaw(event);
  return JSON.stringify(schemaDocument(choice, event, tags, eventId));
}

function renderRaw(event: ShipEvent): string {
  return renderLog(event, event.markers ? JSON.stringify(event.markers) : undefined);
}
