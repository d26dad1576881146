/**
 * A test OTLP/HTTP logs receiver: `POST /v1/logs`, `Content-Type: application/x-protobuf` (gzip allowed), the body
 * decoded with the OFFICIAL opentelemetry-proto definitions vendored in test/fixtures/otlp/ (protobufjs), answered
 * with an `ExportLogsServiceResponse` (protobuf). `fault(n, request)` can answer 429/503 with Retry-After, or a
 * partial success rejecting some records; a body that does not decode is 400.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';

const PROTO_ROOT = fileURLToPath(new URL('../fixtures/otlp/', import.meta.url));

export function loadOtlpProto() {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => `${PROTO_ROOT}${target}`;
  root.loadSync('opentelemetry/proto/collector/logs/v1/logs_service.proto', { keepCase: true });
  return {
    request: root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
    response: root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse'),
  };
}

export type OtlpFault = { status: 429 | 503; retryAfter?: string } | { rejected: number; message: string } | undefined;

export interface FakeOtlp {
  url: string;
  /** Every decoded request, as protobufjs objects (longs as strings, bytes as base64). */
  requests: Array<Record<string, any>>;
  /** Every log record accepted (not counting the ones a partial success rejected: they are all kept here). */
  records(): Array<Record<string, any>>;
  stats: { posts: number; invalid: number };
  close(): Promise<void>;
}

export async function startFakeOtlp(fault?: (n: number) => OtlpFault): Promise<FakeOtlp> {
  const proto = loadOtlpProto();
  const requests: FakeOtlp['requests'] = [];
  const stats = { posts: 0, invalid: 0 };
  const server = createServer((req, res) => void handle(req, res).catch(() => res.destroy()));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const n = ++stats.posts;
    if (req.method !== 'POST' || req.url !== '/v1/logs') return void res.writeHead(404).end();
    if (req.headers['content-type'] !== 'application/x-protobuf') return void res.writeHead(415).end();
    let decoded: Record<string, any>;
    try {
      const raw = Buffer.concat(chunks);
      const bytes = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      const msg = proto.request.decode(bytes);
      const err = proto.request.verify(msg);
      if (err) throw new Error(err);
      decoded = proto.request.toObject(msg, { longs: String, bytes: String, defaults: false, arrays: true });
    } catch {
      stats.invalid++;
      return void res.writeHead(400, { 'content-type': 'application/x-protobuf' }).end();
    }
    const f = fault?.(n);
    if (f && 'status' in f) {
      res.writeHead(f.status, { 'content-type': 'application/x-protobuf', ...(f.retryAfter ? { 'retry-after': f.retryAfter } : {}) });
      return void res.end();
    }
    requests.push(decoded);
    const body = proto.response.encode(proto.response.create(f ? { partial_success: { rejected_log_records: f.rejected, error_message: f.message } } : {})).finish();
    res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': body.length }).end(Buffer.from(body));
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    records: () => requests.flatMap((r) => (r.resource_logs ?? []).flatMap((rl: any) => (rl.instrumentation_library_logs ?? []).flatMap((sl: any) => sl.log_records ?? []))),
    stats,
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}

/** protobufjs AnyValue object → plain JS (for assertions). */
export function anyValue(v: Record<string, any> | undefined): unknown {
  if (!v) return undefined;
  if ('string_value' in v) return v.string_value;
  if ('bool_value' in v) return v.bool_value;
  if ('int_value' in v) return Number(v.int_value);
  if ('double_value' in v) return v.double_value;
  if ('array_value' in v) return (v.array_value.values ?? []).map(anyValue);
  if ('kvlist_value' in v) return Object.fromEntries((v.kvlist_value.values ?? []).map((kv: any) => [kv.key, anyValue(kv.value)]));
  return undefined;
}

export function attrs(list: Array<{ key: string; value: Record<string, any> }> | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, anyValue(kv.value)]));
}
