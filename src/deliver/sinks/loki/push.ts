import type { Batch } from '../../../batch/batch.js';
import type { ShipEvent } from '../../../parse/ship-event.js';
import { renderLog } from '../../render.js';
import { renderEvent, type SchemaChoice } from '../../../schema/index.js';

/**
 * Loki stream labels of a batch: low-cardinality only (Need 6): the input's own tags, `logstore`, `cluster` (the
 * `__cluster_id__` identity tag) and `host` (the node: one writer per stream, so agents never interleave in one
 * ordered stream). Never auditID, user, path or anything per event. Names are made valid Prometheus label names.
 */
export function streamLabels(batch: Batch, extra: Readonly<Record<string, string>>): Record<string, string> {
  const labels: Record<string, string> = { job: 'tailship', logstore: batch.logstore };
  for (const [k, v] of Object.entries(batch.tags)) {
    if (k.startsWith('__') && k.endsWith('__')) continue;
    labels[labelName(k)] = v;
  }
  if (batch.tags.__cluster_id__) labels.cluster = batch.tags.__cluster_id__;
  if (batch.tags.__hostname__) labels.host = batch.tags.__hostname__;
  return { ...labels, ...extra };
}

export function labelName(k: string): string {
  const s = k.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[a-zA-Z_]/.test(s) ? s : `_${s}`;
}

/** Unix ns of the event as Loki wants it: a decimal string. */
export function eventNs(e: ShipEvent): bigint {
  return BigInt(e.time) * 1_000_000_000n + BigInt(e.timeNs);
}

/** One line per event: the event's own JSON (`raw`), its markers under `__tag__` when it has any; or a schema document. */
export function lokiLine(e: ShipEvent, batch: Batch, schema: SchemaChoice): string {
  if (schema.schema !== 'raw') return renderEvent(schema, e, batch.tags);
  if (!e.isObject) return e.markers ? renderLog(e, JSON.stringify(e.markers)) : e.raw;
  return e.markers ? renderLog(e, JSON.stringify(e.markers)) : e.raw.trim();
}

/**
 * The push body (`POST /loki/api/v1/push`, JSON): one stream per batch (a batch shares every tag), entries in
 * timestamp order (stable: equal times keep read order), since Loki refuses what is older than the stream's newest
 * entry beyond its window. `pick` are the event indexes to send.
 */
export function pushBody(batch: Batch, pick: readonly number[], labels: Record<string, string>, schema: SchemaChoice): { body: Buffer; order: number[] } {
  const order = [...pick].sort((a, b) => {
    const d = eventNs(batch.events[a]!) - eventNs(batch.events[b]!);
    return d < 0n ? -1 : d > 0n ? 1 : a - b;
  });
  const values = order.map((i) => {
    const e = batch.events[i]!;
    return `[${JSON.stringify(eventNs(e).toString())},${JSON.stringify(lokiLine(e, batch, schema))}]`;
  });
  return { body: Buffer.from(`{"streams":[{"stream":${JSON.stringify(labels)},"values":[${values.join(',')}]}]}`), order };
}

/**
 * Loki's 400 for entries it will never take (`entry out of order`, `entry too far behind`, `greater_than_max_sample_age`):
 * the other entries of the push were stored. The answer names each refused entry as
 * `entry with timestamp 2024-01-02 03:04:05.123456789 +0000 UTC ignored, reason: '…'`; returns those timestamps
 * in ns, or undefined when the answer is not that kind of 400.
 */
export function refusedEntries(text: string): { ns: bigint[]; reason: string } | undefined {
  if (!/out of order|too far behind|too old|greater_than_max_sample_age|older than the/i.test(text)) return undefined;
  const ns: bigint[] = [];
  const re = /entry with timestamp (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,9}))? ([+-]\d{4})/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const off = m[4]!;
    const ms = Date.parse(`${m[1]}T${m[2]}${off.slice(0, 3)}:${off.slice(3)}`);
    if (Number.isNaN(ms)) continue;
    ns.push(BigInt(ms) * 1_000_000n + BigInt((m[3] ?? '').padEnd(9, '0')));
  }
  const reason = /reason: '([^']*)'/.exec(text)?.[1] ?? 'entry out of order';
  return { ns, reason };
}
