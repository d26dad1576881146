import type { Batch } from '../../../batch/batch.js';
import { eventIdOf } from '../../../audit/event-id.js';
import { BodyWriter } from '../../render.js';
import { quotedTable, type ClickHouseConfig } from './options.js';

/**
 * The table tailship writes (and creates with `?create=true`). Only types ClickHouse 18.16 (Debian 12's) already
 * has — String, DateTime, UInt32, Nested of String — so the same DDL and rows work there and on every newer
 * server. The tags are a Nested (two parallel arrays: `tags.key`, `tags.value`) rather than one column per tag:
 * the tag keys are the user's (any `_tags` of any input), so fixed columns would need an ALTER per new key; the
 * tags that every log has are columns of their own as well. `event` is the event's JSON text, untouched.
 *
 * Query a tag: `tags.value[indexOf(tags.key, 'audit')]`; the event: `visitParamExtractString(event, 'verb')`
 * (18.16) or `JSONExtractString(event, 'verb')` (19.x and later).
 */
export const COLUMNS = [
  ['event_id', 'String'],
  ['event_time', 'DateTime'],
  ['event_time_ns', 'UInt32'],
  ['logstore', 'String'],
  ['hostname', 'String'],
  ['path', 'String'],
  ['cluster_id', 'String'],
  ['tags', 'Nested(key String, value String)'],
  ['event', 'String'],
] as const;

/**
 * `CREATE TABLE IF NOT EXISTS` for `?create=true`: a ReplacingMergeTree ordered by (event_time, event_id), so that
 * rows of a batch sent twice (a retry after a lost answer, a restart after SIGKILL) collapse to one per event when
 * parts merge, and at once for `SELECT … FINAL`. Rows of one event have the same event_time (it comes from the
 * event) and so land in the same monthly partition, which is where ReplacingMergeTree dedupes.
 * `dedupWindow` > 0 adds `non_replicated_deduplication_window` (servers ≥ 20.x; used only with the token, ≥ 22.2)
 * so that `insert_deduplication_token` skips a repeated insert before it makes a part at all.
 */
export function createTableSql(cfg: Pick<ClickHouseConfig, 'database' | 'table'>, dedupWindow = 0): string {
  const cols = COLUMNS.map(([n, t]) => `${n} ${t}`).join(', ');
  const settings = dedupWindow > 0 ? ` SETTINGS non_replicated_deduplication_window = ${dedupWindow}` : '';
  return (
    `CREATE TABLE IF NOT EXISTS ${quotedTable(cfg)} (${cols}) ENGINE = ReplacingMergeTree() ` +
    `PARTITION BY toYYYYMM(event_time) ORDER BY (event_time, event_id)${settings}`
  );
}

export function createDatabaseSql(cfg: Pick<ClickHouseConfig, 'database'>): string {
  return `CREATE DATABASE IF NOT EXISTS \`${cfg.database}\``;
}

export function insertSql(cfg: Pick<ClickHouseConfig, 'database' | 'table'>): string {
  return `INSERT INTO ${quotedTable(cfg)} FORMAT JSONEachRow`;
}

const MAX_DATETIME = 4_294_967_295; // DateTime is UInt32 seconds

/**
 * The JSONEachRow body of a batch: one row per event. `event_id` is the event's `__event_id__` marker, else
 * computed as SPEC §10 says from auditID and stage; for a line without auditID, whose offset the sink does not
 * know, from `{stream}/{batch start}#{index in batch}` — stable across retries and restarts (a re-read makes the
 * same batches), but not SPEC's `{stream}/{offset}`: the identity stage's marker gives that one.
 */
export function rowsBody(batch: Batch): BodyWriter {
  const tags = batch.tags;
  const head =
    `,"logstore":${JSON.stringify(batch.logstore)},"hostname":${JSON.stringify(batch.source)}` +
    `,"path":${JSON.stringify(tags.__path__ ?? '')},"cluster_id":${JSON.stringify(tags.__cluster_id__ ?? '')}`;
  const sharedTags = tagArrays(tags, undefined);
  const clusterId = tags.__cluster_id__ ?? '';
  const w = new BodyWriter(batch.rawBytes * 1.15 + batch.events.length * (head.length + sharedTags.length + 160));
  const events = batch.events;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const id = eventIdOf(e, { clusterId, stream: batch.range.stream, offset: `${batch.range.start}#${i}` });
    const time = Math.min(MAX_DATETIME, Math.max(0, Math.floor(e.time)));
    const ns = Math.min(999_999_999, Math.max(0, Math.floor(e.timeNs)));
    w.write(`{"event_id":"${id}","event_time":${time},"event_time_ns":${ns}`);
    w.write(head);
    w.write(e.markers ? tagArrays(tags, e.markers) : sharedTags);
    w.write(',"event":');
    w.write(JSON.stringify(e.isObject ? e.raw : JSON.stringify({ content: e.raw })));
    w.write('}\n');
  }
  return w;
}

/** `,"tags.key":[…],"tags.value":[…]`: the batch's tags, then the log's own markers (not `__event_id__`). */
function tagArrays(tags: Record<string, string>, markers: Record<string, string> | undefined): string {
  const merged = markers ? { ...tags, ...markers } : tags;
  const keys: string[] = [];
  const values: string[] = [];
  for (const [k, v] of Object.entries(merged)) {
    if (k === '__event_id__') continue;
    keys.push(k);
    values.push(v);
  }
  return `,"tags.key":${JSON.stringify(keys)},"tags.value":${JSON.stringify(values)}`;
}
