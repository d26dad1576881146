import type { ShipEvent } from '../parse/ship-event.js';

/**
 * The parts of an `audit.k8s.io` Event that the schemas read, typed loosely: an event is whatever the API server
 * wrote (v1 or v1beta1), and a field of the wrong type is treated as absent, never as an error.
 */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

/** What every schema function gets: the event, the tags of its batch, and how to shape request/response bodies. */
export interface SchemaInput {
  event: ShipEvent;
  /** Batch tags (input tags, `__hostname__`, `__path__`, `__cluster_id__` when known). */
  tags: Readonly<Record<string, string>>;
  /** The event id (`__event_id__`), already computed. */
  eventId: string;
}

export interface SchemaOptions {
  /** `string` (default): requestObject / responseObject / managedFields as one JSON string; `object`: as they are. */
  bodies: 'string' | 'object';
}

/** The event object: the parsed line, or `{content: line}` for a line that is not one JSON object. */
export function eventObject(event: ShipEvent): JsonObject {
  if (!event.isObject) return { content: event.raw };
  try {
    const v = JSON.parse(event.raw) as Json;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v;
  } catch {
    // parsed once already; a line that no longer parses is shipped as content
  }
  return { content: event.raw };
}

export const str = (v: Json | undefined): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
export const num = (v: Json | undefined): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
export const obj = (v: Json | undefined): JsonObject | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? v : undefined);
export const strList = (v: Json | undefined): string[] | undefined => {
  if (!Array.isArray(v)) return undefined;
  const out = v.filter((x): x is string => typeof x === 'string');
  return out.length > 0 ? out : undefined;
};

/** RFC 3339 → ms since the epoch (undefined when absent or unparseable). */
export function timeMs(v: Json | undefined): number | undefined {
  const s = str(v);
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

/** RFC 3339 → nanoseconds since the epoch as a decimal string (microseconds of the API server kept). */
export function timeNanos(v: Json | undefined): bigint | undefined {
  const s = str(v);
  if (!s) return undefined;
  const m = /^(.*?)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)$/i.exec(s);
  if (!m) return undefined;
  const whole = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(whole)) return undefined;
  const frac = (m[2] ?? '').padEnd(9, '0').slice(0, 9);
  return BigInt(whole) * 1_000_000n + BigInt(frac);
}

/** Event time in ns: `stageTimestamp`, else `requestReceivedTimestamp` / `timestamp`, else the time tailship gave it. */
export function eventTimeNanos(ev: JsonObject, event: ShipEvent): bigint {
  return timeNanos(ev.stageTimestamp) ?? timeNanos(ev.requestReceivedTimestamp) ?? timeNanos(ev.timestamp) ?? BigInt(event.time) * 1_000_000_000n + BigInt(event.timeNs);
}

export function isoFromNanos(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const micro = Number((ns / 1000n) % 1000n);
  const iso = new Date(ms).toISOString(); // …sss Z
  return micro === 0 ? iso : `${iso.slice(0, -1)}${String(micro).padStart(3, '0')}Z`;
}

/** The bodies that explode a store's mapping (Need 6): `requestObject`, `responseObject` as JSON strings. */
export function shapeBodies(ev: JsonObject, opts: SchemaOptions): JsonObject {
  if (opts.bodies === 'object') return ev;
  const out: JsonObject = { ...ev };
  for (const key of ['requestObject', 'responseObject'] as const) {
    if (out[key] !== undefined && out[key] !== null) out[key] = JSON.stringify(out[key]);
  }
  return out;
}

/** The cluster of the event, from the identity tag (SPEC §6) when known. */
export function clusterId(tags: Readonly<Record<string, string>>): string | undefined {
  return tags.__cluster_id__ || undefined;
}

/** Tags without the reserved `__…__` ones: the user's labels (`audit=apiserver`). */
export function userTags(tags: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags)) if (!(k.startsWith('__') && k.endsWith('__'))) out[k] = v;
  return out;
}

/** Drops undefined values (and empty objects) so a document carries only what the event had. */
export function compact<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (v === undefined) delete o[k];
    else if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(compact(v as Record<string, unknown>)).length === 0) delete o[k];
  }
  return o;
}

/** The parts of an audit event every schema maps (ECS, OCSF), read once in one place. */
export function auditParts(input: SchemaInput) {
  const ev = eventObject(input.event);
  const status = obj(ev.responseStatus);
  return {
    ev,
    stageNs: eventTimeNanos(ev, input.event),
    startNs: timeNanos(ev.requestReceivedTimestamp),
    user: obj(ev.user),
    imp: obj(ev.impersonatedUser),
    ref: obj(ev.objectRef),
    status,
    ips: strList(ev.sourceIPs),
    uri: str(ev.requestURI),
    code: status ? num(status.code) : undefined,
    decision: str(obj(ev.annotations)?.['authorization.k8s.io/decision']),
  };
}
