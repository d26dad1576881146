import type { Batch } from '../../../batch/batch.js';
import { eventIdOf } from '../../../audit/event-id.js';
import type { ShipEvent } from '../../../parse/ship-event.js';

/** SD-ID of the tags element (SPEC §10): `tags` at IANA's example enterprise number. */
export const SD_ID = 'tags@32473';
export const APP_NAME = 'tailship';
const BOM = '\uFEFF';

/**
 * An SD-NAME (RFC 5424 §6.3.3): 1 to 32 PRINTUSASCII (33–126) except `=`, space, `]` and `"`. Tag keys are the
 * user's: anything else becomes `_`, longer keys are cut at 32. `__hostname__` and the like are valid as they are.
 */
export function sdName(key: string): string {
  let out = '';
  for (const ch of key) {
    const c = ch.codePointAt(0)!;
    out += c >= 33 && c <= 126 && ch !== '=' && ch !== ']' && ch !== '"' ? ch : '_';
    if (out.length === 32) break;
  }
  return out === '' ? '_' : out;
}

/** A PARAM-VALUE (RFC 5424 §6.3.3): `"`, `\` and `]` escaped with a backslash; UTF-8 otherwise as is. */
export function sdValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** HOSTNAME, APP-NAME, PROCID, MSGID: PRINTUSASCII only, bounded; NILVALUE `-` when empty. */
export function headerField(value: string, max: number): string {
  const s = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return s === '' ? '-' : s;
}

/** RFC 5424 TIMESTAMP in UTC with microseconds (TIME-SECFRAC allows at most 6 digits); `-` when unknown. */
export function timestamp(seconds: number, nanos: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return '-';
  const d = new Date(Math.floor(seconds) * 1000);
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  const micros = Math.floor(Math.max(0, Math.min(999_999_999, nanos)) / 1000);
  return `${iso.slice(0, 19)}.${String(micros).padStart(6, '0')}Z`;
}

/** `[tags@32473 k="v" …]` of the batch's tags, then the log's markers (`__event_id__` always present). */
export function structuredData(tags: Record<string, string>, markers: Record<string, string> | undefined, eventId: string): string {
  let sd = `[${SD_ID}`;
  const merged: Record<string, string> = markers ? { ...tags, ...markers } : { ...tags };
  merged.__event_id__ = eventId;
  for (const [k, v] of Object.entries(merged)) sd += ` ${sdName(k)}="${sdValue(v)}"`;
  return `${sd}]`;
}

export interface FormatOptions {
  facility: number;
  severity: number;
  /**
   * MSG starts with a BOM. Off by default: RFC 5424 §6.4 allows MSG-ANY (octets without a BOM) as well as
   * MSG-UTF8 (BOM + UTF-8); the MSG here is a JSON text, which RFC 8259 §8.1 says must not be sent with a BOM, and
   * rsyslog (8.2302, Debian 12) keeps a BOM in `%msg%`, so every JSON consumer behind it (mmjsonparse,
   * omelasticsearch, a file read by jq) would get U+FEFF in front of the object.
   */
  bom: boolean;
}

/** The event's JSON text: the object as read, or `{"content": line}` for a line that is not one. */
export function eventJson(event: ShipEvent): string {
  return event.isObject ? event.raw : JSON.stringify({ content: event.raw });
}

/**
 * One SYSLOG-MSG (RFC 5424 §6): `<PRI>1 TIMESTAMP HOSTNAME tailship - - [tags@32473 …] MSG`. PROCID and MSGID are
 * NILVALUE so that the same event always makes the same bytes (a retried batch is byte-identical).
 */
export function syslogMessage(batch: Batch, event: ShipEvent, index: number, opts: FormatOptions): string {
  const pri = opts.facility * 8 + opts.severity;
  const id = eventIdOf(event, { clusterId: batch.tags.__cluster_id__ ?? '', stream: batch.range.stream, offset: `${batch.range.start}#${index}` });
  const sd = structuredData(batch.tags, event.markers, id);
  return `<${pri}>1 ${timestamp(event.time, event.timeNs)} ${headerField(batch.source, 255)} ${APP_NAME} - - ${sd} ${opts.bom ? BOM : ''}${eventJson(event)}`;
}

/** RFC 6587 §3.4.1 octet counting: `MSG-LEN SP SYSLOG-MSG`, MSG-LEN the message's length in octets. */
export function frame(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

/**
 * The frames of a batch, packed into buffers of about `chunkBytes`, whole frames only: a send that stops between
 * two writes (aborted, timed out) leaves no half message queued behind it on a connection that stays open.
 */
export function* batchChunks(batch: Batch, opts: FormatOptions, chunkBytes = 256 * 1024): Generator<Buffer> {
  let parts: Buffer[] = [];
  let size = 0;
  for (let i = 0; i < batch.events.length; i++) {
    const f = frame(syslogMessage(batch, batch.events[i]!, i, opts));
    parts.push(f);
    size += f.length;
    if (size >= chunkBytes) {
      yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
      parts = [];
      size = 0;
    }
  }
  if (parts.length) yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
}
