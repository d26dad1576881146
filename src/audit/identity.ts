import type { ShipEvent } from '../parse/ship-event.js';
import type { EventProcessor } from '../process/stage.js';
import { computeEventId } from './event-id.js';

/**
 * Identity (SPEC §6, §10): which cluster a log came from, and a stable id per event for stores that dedupe.
 */

/** ACK names an audit input `audit-{cluster_id}`, the cluster id being `c` + 32 hex digits (33 characters). */
const ACK_AUDIT_KEY = /^audit-([a-z0-9]{33})$/;

/**
 * The `__cluster_id__` of an input, or undefined when unknown: `TAILSHIP_CLUSTER_ID` for every input when set,
 * else the id in an ACK `audit-{cluster_id}` key. An input-level tag: the caller puts it into the input's tags.
 */
export function clusterIdOf(inputKey: string, env: Record<string, string | undefined>): string | undefined {
  const fromEnv = env.TAILSHIP_CLUSTER_ID?.trim();
  if (fromEnv) return fromEnv;
  return ACK_AUDIT_KEY.exec(inputKey)?.[1];
}

/** Hex SHA-256 of `{cluster_id}/{auditID}/{stage}`, or of `{stream}/{offset}` for a line without auditID (event-id.ts). */
export const eventIdOf: (event: ShipEvent, clusterId: string, stream: string, offset: number) => string = computeEventId;

/**
 * The last stage of every input: adds the per-log marker `__event_id__`. `clusterId` is the input's (empty when
 * unknown); the context's `__cluster_id__` tag wins when the caller put one there.
 */
export function createIdentityStage(clusterId: string | undefined): EventProcessor {
  return (event, ctx) => {
    const cluster = ctx.tags.__cluster_id__ ?? clusterId ?? '';
    const id = eventIdOf(event, cluster, ctx.stream, ctx.offset);
    const markers = event.markers ? { ...event.markers, __event_id__: id } : { __event_id__: id };
    return { raw: event.raw, isObject: event.isObject, time: event.time, timeNs: event.timeNs, markers };
  };
}
