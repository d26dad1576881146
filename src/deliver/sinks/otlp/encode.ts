import type { AnyValue, KeyValue, OtelLogRecord } from '../../../schema/otel.js';

/**
 * Hand-written protobuf writer for OTLP/HTTP logs (opentelemetry-proto, proto3):
 *
 *   ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
 *   ResourceLogs   { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }
 *   Resource       { repeated KeyValue attributes = 1; }
 *   ScopeLogs      { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; }
 *   InstrumentationScope { string name = 1; string version = 2; }
 *   LogRecord      { fixed64 time_unix_nano = 1; SeverityNumber severity_number = 2; string severity_text = 3;
 *                    AnyValue body = 5; repeated KeyValue attributes = 6; fixed64 observed_time_unix_nano = 11; }
 *   KeyValue       { string key = 1; AnyValue value = 2; }
 *   AnyValue       { oneof { string string_value = 1; bool bool_value = 2; int64 int_value = 3;
 *                            double double_value = 4; ArrayValue array_value = 5; KeyValueList kvlist_value = 6; } }
 *   ArrayValue / KeyValueList { repeated AnyValue|KeyValue values = 1; }
 *
 * As the SLS LogGroup writer: every message's size is computed first (kept in `sizes`, in the order the writer
 * meets the messages), then one Buffer of the exact size is written front to back. Fields at their default value
 * are left out, as proto3 does; a string is always written when present (an empty attribute value is a value).
 */

export interface OtlpRequest {
  resource: KeyValue[];
  scope: { name: string; version: string };
  records: OtelLogRecord[];
}

const LEN = 2;
const tag = (field: number, wire: number) => (field << 3) | wire;

export function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : n < 2 ** 35 ? 5 : n < 2 ** 42 ? 6 : n < 2 ** 49 ? 7 : 8;
}

function bigVarintSize(v: bigint): number {
  let u = BigInt.asUintN(64, v);
  let n = 1;
  while (u >= 0x80n) {
    u >>= 7n;
    n++;
  }
  return n;
}

/** Sizes in the order `write` consumes them: a pre-order walk of the nested messages. */
class Sizes {
  readonly list: number[] = [];
  reserve(): number {
    this.list.push(0);
    return this.list.length - 1;
  }
}

const strSize = (field: number, s: string): number => {
  const n = Buffer.byteLength(s);
  return varintSize(tag(field, LEN)) + varintSize(n) + n;
};
const lenSize = (field: number, n: number): number => varintSize(tag(field, LEN)) + varintSize(n) + n;

function sizeAny(v: AnyValue, s: Sizes): number {
  if ('string' in v) return strSize(1, v.string);
  if ('bool' in v) return v.bool ? 2 : 0;
  if ('int' in v) return v.int === 0n ? 0 : 1 + bigVarintSize(v.int);
  if ('double' in v) return v.double === 0 && !Object.is(v.double, -0) ? 0 : 9;
  const slot = s.reserve();
  let inner = 0;
  if ('array' in v) for (const x of v.array) inner += lenSize(1, sizeAnyMsg(x, s));
  else for (const kv of v.kvlist) inner += lenSize(1, sizeKv(kv, s));
  s.list[slot] = inner;
  return lenSize('array' in v ? 5 : 6, inner);
}

/** An AnyValue as a nested message (its own size slot). */
function sizeAnyMsg(v: AnyValue, s: Sizes): number {
  const slot = s.reserve();
  return (s.list[slot] = sizeAny(v, s));
}

function sizeKv([key, value]: KeyValue, s: Sizes): number {
  const slot = s.reserve();
  const n = strSize(1, key) + lenSize(2, sizeAnyMsg(value, s));
  return (s.list[slot] = n);
}

function sizeRecord(r: OtelLogRecord, s: Sizes): number {
  const slot = s.reserve();
  let n = 0;
  if (r.timeUnixNano !== 0n) n += 9;
  if (r.severityNumber !== 0) n += 1 + varintSize(r.severityNumber);
  if (r.severityText !== '') n += strSize(3, r.severityText);
  n += lenSize(5, sizeAnyMsg(r.body, s));
  for (const kv of r.attributes) n += lenSize(6, sizeKv(kv, s));
  if (r.observedTimeUnixNano !== 0n) n += 1 + 8;
  return (s.list[slot] = n);
}

/** The `ExportLogsServiceRequest` bytes: one ResourceLogs (the batch's resource), one ScopeLogs, every record. */
export function encodeExportLogsRequest(req: OtlpRequest): Buffer {
  const s = new Sizes();
  const rlSlot = s.reserve();
  const resSlot = s.reserve();
  let res = 0;
  for (const kv of req.resource) res += lenSize(1, sizeKv(kv, s));
  s.list[resSlot] = res;
  const slSlot = s.reserve();
  const scopeSlot = s.reserve();
  const scope = (req.scope.name ? strSize(1, req.scope.name) : 0) + (req.scope.version ? strSize(2, req.scope.version) : 0);
  s.list[scopeSlot] = scope;
  let sl = lenSize(1, scope);
  for (const r of req.records) sl += lenSize(2, sizeRecord(r, s));
  s.list[slSlot] = sl;
  const rl = lenSize(1, res) + lenSize(2, sl);
  s.list[rlSlot] = rl;
  const total = lenSize(1, rl);

  const w = new Writer(Buffer.allocUnsafe(total), s.list);
  w.lenHeader(1); // resource_logs
  w.lenHeader(1); // resource
  for (const kv of req.resource) w.kv(1, kv);
  w.lenHeader(2); // scope_logs
  w.lenHeader(1); // scope
  if (req.scope.name) w.str(1, req.scope.name);
  if (req.scope.version) w.str(2, req.scope.version);
  for (const r of req.records) w.record(r);
  if (w.pos !== total) throw new Error(`otlp encoder: wrote ${w.pos} bytes, sized ${total}`);
  return w.buf;
}

class Writer {
  pos = 0;
  #next = 0;
  constructor(
    readonly buf: Buffer,
    readonly sizes: number[],
  ) {}

  varint(n: number): void {
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  bigVarint(v: bigint): void {
    let u = BigInt.asUintN(64, v);
    while (u >= 0x80n) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }

  /** Field header of the next nested message, with the size computed for it. */
  lenHeader(field: number): void {
    this.varint(tag(field, LEN));
    this.varint(this.sizes[this.#next++]!);
  }

  str(field: number, s: string): void {
    this.varint(tag(field, LEN));
    this.varint(Buffer.byteLength(s));
    this.pos += this.buf.write(s, this.pos);
  }

  fixed64(field: number, v: bigint): void {
    this.varint(tag(field, 1));
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, v), this.pos);
    this.pos += 8;
  }

  kv(field: number, [key, value]: KeyValue): void {
    this.lenHeader(field);
    this.str(1, key);
    this.anyMsg(2, value);
  }

  anyMsg(field: number, v: AnyValue): void {
    this.lenHeader(field);
    this.any(v);
  }

  any(v: AnyValue): void {
    if ('string' in v) return this.str(1, v.string);
    if ('bool' in v) {
      if (v.bool) {
        this.varint(tag(2, 0));
        this.varint(1);
      }
      return;
    }
    if ('int' in v) {
      if (v.int !== 0n) {
        this.varint(tag(3, 0));
        this.bigVarint(v.int);
      }
      return;
    }
    if ('double' in v) {
      if (v.double === 0 && !Object.is(v.double, -0)) return;
      this.varint(tag(4, 1));
      this.buf.writeDoubleLE(v.double, this.pos);
      this.pos += 8;
      return;
    }
    this.lenHeader('array' in v ? 5 : 6);
    if ('array' in v) for (const x of v.array) this.anyMsg(1, x);
    else for (const kv of v.kvlist) this.kv(1, kv);
  }

  record(r: OtelLogRecord): void {
    this.lenHeader(2);
    if (r.timeUnixNano !== 0n) this.fixed64(1, r.timeUnixNano);
    if (r.severityNumber !== 0) {
      this.varint(tag(2, 0));
      this.varint(r.severityNumber);
    }
    if (r.severityText !== '') this.str(3, r.severityText);
    this.anyMsg(5, r.body);
    for (const kv of r.attributes) this.kv(6, kv);
    if (r.observedTimeUnixNano !== 0n) this.fixed64(11, r.observedTimeUnixNano);
  }
}

/**
 * Reads `ExportLogsServiceResponse.partial_success` (field 1: rejected_log_records = 1, error_message = 2) from a
 * 200 answer. An empty body is full success. Undefined when the bytes are not a valid message.
 */
export function decodePartialSuccess(buf: Buffer): { rejected: number; message: string } | undefined {
  const out = { rejected: 0, message: '' };
  const r = new Reader(buf);
  while (!r.done()) {
    const key = r.varint();
    if (key === undefined) return undefined;
    if (key === tag(1, LEN)) {
      const inner = r.bytes();
      if (!inner) return undefined;
      const ir = new Reader(inner);
      while (!ir.done()) {
        const k = ir.varint();
        if (k === tag(1, 0)) out.rejected = ir.varint() ?? 0;
        else if (k === tag(2, LEN)) out.message = ir.bytes()?.toString('utf8') ?? '';
        else if (k === undefined || !ir.skip(k & 7)) return undefined;
      }
    } else if (!r.skip(key & 7)) return undefined;
  }
  return out;
}

/** `google.rpc.Status.message` (field 2) of an OTLP error answer, when the body is one. */
export function decodeStatusMessage(buf: Buffer): string | undefined {
  const r = new Reader(buf);
  while (!r.done()) {
    const key = r.varint();
    if (key === undefined) return undefined;
    if (key === tag(2, LEN)) return r.bytes()?.toString('utf8');
    if (!r.skip(key & 7)) return undefined;
  }
  return undefined;
}

class Reader {
  #pos = 0;
  constructor(readonly buf: Buffer) {}
  done(): boolean {
    return this.#pos >= this.buf.length;
  }
  varint(): number | undefined {
    let n = 0;
    let mult = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.buf[this.#pos++];
      if (b === undefined) return undefined;
      n += (b & 0x7f) * mult;
      mult *= 128;
      if (b < 0x80) return n;
    }
    return undefined;
  }
  bytes(): Buffer | undefined {
    const n = this.varint();
    if (n === undefined || this.#pos + n > this.buf.length) return undefined;
    const b = this.buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return b;
  }
  skip(wire: number): boolean {
    if (wire === 0) return this.varint() !== undefined;
    if (wire === 1) return (this.#pos += 8) <= this.buf.length;
    if (wire === 5) return (this.#pos += 4) <= this.buf.length;
    if (wire === 2) return this.bytes() !== undefined;
    return false;
  }
}
