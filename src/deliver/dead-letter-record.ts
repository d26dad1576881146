import type { Batch } from '../batch/batch.js';
import type { ShipEvent } from '../parse/ship-event.js';
import { batchNdjson } from './ndjson.js';
import type { SinkError } from './sink.js';

// The one home of the dead-letter record format: written by the spool (dead-letter.ts), read by `tailship replay`.

/** What of a SinkError a record keeps: the store's answer and the reason. */
export type DeadLetterError = Pick<SinkError, 'message' | 'kind' | 'statusCode' | 'code' | 'storeCode' | 'responseBody'>;

/** One spool line, parsed. `logs` are the logs as `file:` writes them (with `__time__` and `__tag__`). */
export interface DeadLetterRecord {
  time: string;
  sink?: string;
  reason: string;
  kind: string;
  statusCode?: number;
  /** tailship's stable code (TAILSHIP_E_…); the store's own in storeCode. */
  code?: string;
  storeCode?: string;
  responseBody?: string;
  /** The batch without its events (their count instead); shard, ttl and mode are absent in older records. */
  batch: Pick<Batch, 'id' | 'inputKey' | 'logstore' | 'project' | 'product' | 'source' | 'range' | 'tags'> &
    Partial<Pick<Batch, 'shard' | 'ttl' | 'logstoreMode'>> & { events: number };
  logs: Array<Record<string, unknown>>;
  /** Set by `tailship replay` when the store refused the entry again: its latest answer. */
  lastReplay?: { time: string; kind: string; code: string; storeCode?: string; statusCode?: number; reason: string };
}

/**
 * One spool line (with its newline): `{"time","sink","reason","kind","statusCode","code","storeCode",
 * "responseBody","batch":{id,inputKey,logstore,project,product,source,range,tags,events,shard,ttl,logstoreMode},
 * "logs":[…]}`. The logs are spliced in as already-rendered JSON text.
 */
export function deadLetterRecord(batch: Batch, err: DeadLetterError, sinkName: string | undefined, at: number): string {
  const head = JSON.stringify({
    time: new Date(at).toISOString(),
    sink: sinkName,
    reason: err.message,
    kind: err.kind,
    statusCode: err.statusCode,
    code: err.code,
    storeCode: err.storeCode,
    responseBody: err.responseBody,
    batch: {
      id: batch.id,
      inputKey: batch.inputKey,
      logstore: batch.logstore,
      project: batch.project,
      product: batch.product,
      source: batch.source,
      range: batch.range,
      tags: batch.tags,
      events: batch.events.length,
      shard: batch.shard,
      ttl: batch.ttl,
      logstoreMode: batch.logstoreMode,
    },
  });
  const logs = batchNdjson(batch).trimEnd().split('\n').join(',');
  return `${head.slice(0, -1)},"logs":[${batch.events.length ? logs : ''}]}\n`;
}

/** Parses one spool line; an error text when it is not a dead-letter record (the line is then kept as it is). */
export function parseDeadLetterLine(line: string): DeadLetterRecord | { error: string } {
  let rec: DeadLetterRecord;
  try {
    rec = JSON.parse(line) as DeadLetterRecord;
  } catch (err) {
    return { error: `not JSON (${(err as Error).message})` };
  }
  const b = rec?.batch;
  if (!b || typeof b.id !== 'string' || typeof b.logstore !== 'string' || !Array.isArray(rec.logs)) {
    return { error: 'not a dead-letter record (no batch.id, batch.logstore or logs)' };
  }
  if (!rec.logs.every((l) => typeof l === 'object' && l !== null && !Array.isArray(l))) return { error: 'a log is not a JSON object' };
  return rec;
}

/**
 * The batch of a record, to send again: each log becomes an object event without `__time__` and `__tag__`
 * (the sink adds them again), and its markers are the `__tag__` entries the batch's tags do not have. A line that
 * was shipped as `{"content": line}` comes back as that object, which every sink renders the same way.
 */
export function recordBatch(rec: DeadLetterRecord): Batch {
  const tags = rec.batch.tags ?? {};
  const events = rec.logs.map((log): ShipEvent => {
    const { __time__: time, __tag__: tag, ...rest } = log as { __time__?: unknown; __tag__?: unknown } & Record<string, unknown>;
    const markers: Record<string, string> = {};
    if (tag && typeof tag === 'object') {
      for (const [k, v] of Object.entries(tag as Record<string, unknown>)) if (tags[k] !== v) markers[k] = String(v);
    }
    const event: ShipEvent = { raw: JSON.stringify(rest), isObject: true, time: typeof time === 'number' ? time : 0, timeNs: 0 };
    if (Object.keys(markers).length > 0) event.markers = markers;
    return event;
  });
  return {
    id: rec.batch.id,
    inputKey: rec.batch.inputKey,
    logstore: rec.batch.logstore,
    ...(rec.batch.project !== undefined ? { project: rec.batch.project } : {}),
    ...(rec.batch.product !== undefined ? { product: rec.batch.product } : {}),
    source: rec.batch.source,
    tags,
    shard: rec.batch.shard ?? 2,
    ttl: rec.batch.ttl ?? 90,
    logstoreMode: rec.batch.logstoreMode ?? 'standard',
    events,
    rawBytes: events.reduce((n, e) => n + Buffer.byteLength(e.raw), 0),
    range: rec.batch.range,
  };
}
