import type { ShipEvent } from '../../../parse/ship-event.js';
import { jsonContents } from './contents.js';

/**
 * Hand-written protobuf writer for the SLS `LogGroup` (proto2, research/logtail-sls.md §3.1):
 *
 *   Log      { required uint32 Time = 1; repeated Content Contents = 2; optional fixed32 Time_ns = 4; }
 *   Content  { required string Key = 1; required string Value = 2; }
 *   LogTag   { required string Key = 1; required string Value = 2; }
 *   LogGroup { repeated Log Logs = 1; optional string Topic = 3; optional string Source = 4;
 *              repeated LogTag LogTags = 6; }
 *
 * Sizes are computed first (UTF-8 byte lengths are kept with each string), then one Buffer of the exact size
 * is written front to back: no intermediate messages, no per-field allocation.
 */

/** One log, ready to encode. */
export interface SlsLog {
  /** Unix seconds (uint32). */
  time: number;
  /** Nanosecond part (fixed32). */
  timeNs: number;
  /** Contents as alternating key, value strings. */
  kv: string[];
  /** UTF-8 byte length of each kv string. */
  lens: number[];
  /** Encoded size of the Log message (without its field tag and length prefix). */
  size: number;
  /** Per-log markers (`__truncated__`, `__parse_error__`): sent as LogTags of a LogGroup of their own. */
  markers?: Record<string, string>;
}

/** Topic, Source and LogTags of one LogGroup. */
export interface GroupMeta {
  topic?: string;
  source?: string;
  tags: ReadonlyArray<readonly [string, string]>;
}

const TAG_LOGS = 0x0a; // LogGroup.Logs, field 1, LEN
const TAG_TOPIC = 0x1a; // LogGroup.Topic, field 3, LEN
const TAG_SOURCE = 0x22; // LogGroup.Source, field 4, LEN
const TAG_LOGTAGS = 0x32; // LogGroup.LogTags, field 6, LEN
const TAG_TIME = 0x08; // Log.Time, field 1, varint
const TAG_CONTENTS = 0x12; // Log.Contents, field 2, LEN
const TAG_TIME_NS = 0x25; // Log.Time_ns, field 4, I32
const TAG_KEY = 0x0a; // Content.Key / LogTag.Key, field 1, LEN
const TAG_VALUE = 0x12; // Content.Value / LogTag.Value, field 2, LEN

export function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[pos++] = n;
  return pos;
}

/** Size of a `{Key, Value}` message (Content and LogTag have the same shape). */
function pairSize(keyLen: number, valueLen: number): number {
  return 2 + varintSize(keyLen) + keyLen + varintSize(valueLen) + valueLen;
}

/**
 * The event as SLS contents (see contents.ts): every top-level key of a JSON object, or the one content
 * `content` holding the line when it is not a JSON object.
 */
export function toSlsLog(event: ShipEvent): SlsLog {
  let kv: string[] = [];
  let markers = event.markers;
  if (event.isObject) {
    const contents = jsonContents(event.raw);
    if (contents) kv = contents;
    // The parser said "object" but it is not: ship the line, never drop it.
    else markers = { ...markers, __parse_error__: 'not a JSON object' };
  }
  // A line that is not an object, or an object with no keys left: the raw line, so no log is ever empty.
  if (kv.length === 0) kv.push('content', event.raw);
  // SPEC §10: in SLS the event id is a content key of each log, not a LogTag (a tag per log would put every
  // log in a LogGroup of its own).
  if (markers && markers.__event_id__ !== undefined) {
    const { __event_id__: id, ...rest } = markers;
    let at = -1;
    for (let i = 0; i < kv.length; i += 2) if (kv[i] === '__event_id__') at = i;
    if (at >= 0) kv[at + 1] = id;
    else kv.push('__event_id__', id);
    markers = Object.keys(rest).length > 0 ? rest : undefined;
  }
  const lens = new Array<number>(kv.length);
  for (let i = 0; i < kv.length; i++) lens[i] = Buffer.byteLength(kv[i]!, 'utf8');
  const log: SlsLog = { time: event.time >>> 0, timeNs: event.timeNs >>> 0, kv, lens, size: 0 };
  if (markers) log.markers = markers;
  log.size = logSize(log);
  return log;
}

/** Encoded size of the Log message from its fields. */
export function logSize(log: SlsLog): number {
  let size = 1 + varintSize(log.time) + 5; // Time, Time_ns
  const lens = log.lens;
  for (let i = 0; i < lens.length; i += 2) {
    const c = pairSize(lens[i]!, lens[i + 1]!);
    size += 1 + varintSize(c) + c;
  }
  return size;
}

/** Bytes the log takes inside a LogGroup (field tag, length, message). */
export function logFieldSize(log: SlsLog): number {
  return 1 + varintSize(log.size) + log.size;
}

/** Bytes of Topic, Source and LogTags. */
export function groupMetaSize(meta: GroupMeta): number {
  let size = 0;
  if (meta.topic) {
    const n = Buffer.byteLength(meta.topic, 'utf8');
    size += 1 + varintSize(n) + n;
  }
  if (meta.source) {
    const n = Buffer.byteLength(meta.source, 'utf8');
    size += 1 + varintSize(n) + n;
  }
  for (const [k, v] of meta.tags) {
    const t = pairSize(Buffer.byteLength(k, 'utf8'), Buffer.byteLength(v, 'utf8'));
    size += 1 + varintSize(t) + t;
  }
  return size;
}

/**
 * Cuts the largest values of a log until its message is at most `maxSize` bytes (UTF-8 safe), and marks it
 * `__truncated__`. Returns false when the log already fits. Always terminates: when every value is empty,
 * whole contents are dropped from the end.
 */
export function cutLog(log: SlsLog, maxSize: number): boolean {
  if (log.size <= maxSize) return false;
  const { kv, lens } = log;
  while (log.size > maxSize && kv.length > 0) {
    let best = -1;
    for (let i = 1; i < lens.length; i += 2) if (best < 0 || lens[i]! > lens[best]!) best = i;
    if (lens[best]! === 0) {
      kv.length -= 2;
      lens.length -= 2;
    } else {
      const keep = Math.max(0, lens[best]! - (log.size - maxSize));
      kv[best] = truncateUtf8(kv[best]!, keep);
      lens[best] = Buffer.byteLength(kv[best]!, 'utf8');
    }
    log.size = logSize(log);
  }
  log.markers = { ...log.markers, __truncated__: 'true' };
  return true;
}

/** The longest prefix of s whose UTF-8 encoding is at most maxBytes, never splitting a character. */
export function truncateUtf8(s: string, maxBytes: number): string {
  const b = Buffer.from(s, 'utf8');
  if (b.length <= maxBytes) return s;
  let end = maxBytes;
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--;
  return b.toString('utf8', 0, end);
}

/** Encodes logs[start, end) with meta as one LogGroup in a Buffer of exactly the right size. */
export function encodeLogGroup(logs: readonly SlsLog[], start: number, end: number, meta: GroupMeta): Buffer {
  let total = groupMetaSize(meta);
  for (let i = start; i < end; i++) total += logFieldSize(logs[i]!);
  const buf = Buffer.allocUnsafe(total);
  let p = 0;
  for (let i = start; i < end; i++) {
    const log = logs[i]!;
    buf[p++] = TAG_LOGS;
    p = writeVarint(buf, p, log.size);
    buf[p++] = TAG_TIME;
    p = writeVarint(buf, p, log.time);
    const { kv, lens } = log;
    for (let j = 0; j < kv.length; j += 2) {
      const kl = lens[j]!;
      const vl = lens[j + 1]!;
      buf[p++] = TAG_CONTENTS;
      p = writeVarint(buf, p, pairSize(kl, vl));
      p = writeString(buf, p, TAG_KEY, kv[j]!, kl);
      p = writeString(buf, p, TAG_VALUE, kv[j + 1]!, vl);
    }
    buf[p++] = TAG_TIME_NS;
    buf.writeUInt32LE(log.timeNs, p);
    p += 4;
  }
  if (meta.topic) p = writeString(buf, p, TAG_TOPIC, meta.topic, Buffer.byteLength(meta.topic, 'utf8'));
  if (meta.source) p = writeString(buf, p, TAG_SOURCE, meta.source, Buffer.byteLength(meta.source, 'utf8'));
  for (const [k, v] of meta.tags) {
    const kl = Buffer.byteLength(k, 'utf8');
    const vl = Buffer.byteLength(v, 'utf8');
    buf[p++] = TAG_LOGTAGS;
    p = writeVarint(buf, p, pairSize(kl, vl));
    p = writeString(buf, p, TAG_KEY, k, kl);
    p = writeString(buf, p, TAG_VALUE, v, vl);
  }
  // A size mismatch would send garbage (or stale memory from allocUnsafe): fail loudly instead.
  if (p !== total) throw new Error(`LogGroup encoder wrote ${p} bytes, expected ${total}`);
  return buf;
}

function writeString(buf: Buffer, p: number, tag: number, s: string, len: number): number {
  buf[p++] = tag;
  p = writeVarint(buf, p, len);
  if (len > 0) buf.write(s, p, len, 'utf8');
  return p + len;
}
