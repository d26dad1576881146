/**
 * A local SLS endpoint for tests: a real HTTP server on 127.0.0.1 (port 0) that checks what a PutLogs request
 * must carry — signature v1 recomputed here from the request (independently of src/), upper-case hex
 * Content-MD5, API headers, x-log-bodyrawsize — decompresses lz4 (strictly, as the reference decoder with the
 * exact raw size would) or deflate, decodes the LogGroup with protobufjs from test/fixtures/sls/sls_logs.proto,
 * and records it. Faults can be injected per request. Also answers CreateLogStore (`POST /logstores`).
 *
 * Reusable by end-to-end tests: `const sls = await startFakeSls(); spawn('node', ['dist/cli.js', 'run',
 * '--sink', `${sls.url}?project=p`], { env: { ...process.env, ...sls.env } })`, then `sls.logGroups`.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import protobuf from 'protobufjs';
import type { Batch } from '../../src/batch/batch.js';
import type { ShipEvent } from '../../src/parse/ship-event.js';

export const PROTO_PATH = fileURLToPath(new URL('../fixtures/sls/sls_logs.proto', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../fixtures/sls/', import.meta.url));

// ---------------------------------------------------------------------------------------------------------
// Independent decoders

export interface DecodedLog {
  Time: number;
  Contents: { Key: string; Value: string }[];
  Time_ns?: number;
}
export interface DecodedLogGroup {
  Logs: DecodedLog[];
  Topic?: string;
  Source?: string;
  LogTags: { Key: string; Value: string }[];
}

let logGroupType: protobuf.Type | undefined;
export function logGroupProto(): protobuf.Type {
  logGroupType ??= new protobuf.Root().loadSync(PROTO_PATH, { keepCase: true }).lookupType('sls_logs.LogGroup');
  return logGroupType;
}

/** Decodes a LogGroup with protobufjs (throws on malformed input, including missing required fields). */
export function decodeLogGroup(buf: Uint8Array): DecodedLogGroup {
  const type = logGroupProto();
  const msg = type.decode(buf);
  const obj = type.toObject(msg, { longs: Number, arrays: true, defaults: false }) as DecodedLogGroup;
  obj.Logs ??= [];
  obj.LogTags ??= [];
  for (const log of obj.Logs) log.Contents ??= [];
  return obj;
}

/**
 * Decodes a raw LZ4 block into exactly rawSize bytes with the end-of-block rules the reference decoder
 * (LZ4_decompress_safe) enforces: a sequence whose literals reach into the last 12 output bytes (or the last
 * 8 input bytes) must be the last one and end exactly at both ends; a match must not reach into the last 5
 * output bytes. Throws on any violation.
 */
export function lz4DecompressStrict(src: Uint8Array, rawSize: number): Buffer {
  const dst = Buffer.alloc(rawSize);
  const iend = src.length;
  const oend = rawSize;
  let ip = 0;
  let op = 0;
  if (oend === 0) {
    if (iend === 1 && src[0] === 0) return dst;
    throw new Error('lz4: bad empty block');
  }
  for (;;) {
    if (ip >= iend) throw new Error('lz4: truncated block');
    const token = src[ip++]!;
    let lit = token >>> 4;
    if (lit === 15) {
      let b: number;
      do {
        if (ip >= iend) throw new Error('lz4: truncated literal length');
        b = src[ip++]!;
        lit += b;
      } while (b === 255);
    }
    const cpy = op + lit;
    if (cpy > oend - 12 || ip + lit > iend - 8) {
      if (ip + lit !== iend || cpy !== oend) {
        throw new Error(`lz4: literals at ${op}..${cpy} of ${oend} must be the last sequence (input ${ip + lit}/${iend})`);
      }
      dst.set(src.subarray(ip, ip + lit), op);
      return dst;
    }
    dst.set(src.subarray(ip, ip + lit), op);
    ip += lit;
    op = cpy;
    const offset = src[ip]! | (src[ip + 1]! << 8);
    ip += 2;
    if (offset === 0 || offset > op) throw new Error(`lz4: bad match offset ${offset} at ${op}`);
    let ml = token & 15;
    if (ml === 15) {
      let b: number;
      do {
        if (ip >= iend) throw new Error('lz4: truncated match length');
        b = src[ip++]!;
        ml += b;
      } while (b === 255);
    }
    ml += 4;
    if (op + ml > oend - 5) throw new Error(`lz4: match ${op}..${op + ml} reaches into the last 5 bytes of ${oend}`);
    for (let m = op - offset, end = op + ml; op < end; ) dst[op++] = dst[m++]!;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Audit events as the pipeline would hand them to a sink

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/** Unix seconds and nanoseconds of an RFC 3339 timestamp, or undefined. */
export function parseRfc3339(s: unknown): { time: number; timeNs: number } | undefined {
  if (typeof s !== 'string') return undefined;
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return { time: Math.floor(ms / 1000), timeNs: m[2] ? Number(m[2].padEnd(9, '0')) : 0 };
}

export const READ_TIME = 1_700_000_000;

/** A ShipEvent for one line (CR stripped), time from stageTimestamp, else requestReceivedTimestamp. */
export function shipEventFromLine(line: string): ShipEvent {
  const raw = line.endsWith('\r') ? line.slice(0, -1) : line;
  let obj: unknown;
  try {
    obj = JSON.parse(raw);
  } catch {
    obj = undefined;
  }
  const isObject = obj !== null && typeof obj === 'object' && !Array.isArray(obj);
  const rec = isObject ? (obj as Record<string, unknown>) : {};
  const t = parseRfc3339(rec.stageTimestamp) ?? parseRfc3339(rec.requestReceivedTimestamp);
  const ev: ShipEvent = { raw, isObject, time: t?.time ?? READ_TIME, timeNs: t?.timeNs ?? 0 };
  if (!isObject) ev.markers = { __parse_error__: 'not a JSON object' };
  return ev;
}

/** Every non-empty line of a fixture file as a ShipEvent. */
export function shipEventsFromFixture(name: string): ShipEvent[] {
  return readFileSync(`${FIXTURES}${name}`, 'utf8')
    .split('\n')
    .filter((l) => l.replace(/\r$/, '').length > 0)
    .map(shipEventFromLine);
}

let batchSeq = 0;
export function makeBatch(events: ShipEvent[], over: Partial<Batch> = {}): Batch {
  const rawBytes = events.reduce((n, e) => n + Buffer.byteLength(e.raw) + 1, 0);
  const id = `batch-${++batchSeq}`;
  return {
    id,
    inputKey: 'audit-c0123456789abcdef0123456789abcdef',
    logstore: 'audit-c0123456789abcdef0123456789abcdef',
    product: 'k8s-audit',
    source: 'node-1',
    tags: { audit: 'apiserver', __hostname__: 'node-1', __path__: '/var/log/kubernetes/kubernetes.audit' },
    events,
    rawBytes,
    range: { stream: `stream-${id}`, start: 0, end: rawBytes },
    shard: 2,
    ttl: 90,
    logstoreMode: 'standard',
    ...over,
  };
}

/** The contents an event must arrive with (the k8s-audit logstore shape), computed here independently. */
export function expectedContents(ev: ShipEvent): [string, string][] {
  if (!ev.isObject) return [['content', ev.raw]];
  const obj = JSON.parse(ev.raw) as Record<string, unknown>;
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (k === '__time__' || k === '__tag__') continue;
    out.push([k, typeof v === 'string' ? v : v === null ? '' : JSON.stringify(v)]);
  }
  return out.length > 0 ? out : [['content', ev.raw]];
}

// ---------------------------------------------------------------------------------------------------------
// The server

export interface FakeSlsRequest {
  /** 1-based arrival number. */
  n: number;
  method: string;
  path: string;
  query: Record<string, string>;
  project: string | undefined;
  logstore: string | undefined;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** What to answer instead of processing: an SLS error reply, or 'reset' to destroy the socket. */
export type FaultReply =
  | { status: number; errorCode?: string; errorMessage?: string; headers?: Record<string, string>; body?: string }
  | 'reset';

export interface ReceivedLogGroup {
  project: string;
  logstore: string;
  compressType: string;
  rawSize: number;
  requestId: string;
  logGroup: DecodedLogGroup;
}

export interface FakeSlsOptions {
  accessKeyId?: string;
  accessKeySecret?: string;
  /** When set, requests must carry it in x-acs-security-token. */
  securityToken?: string;
  /** When set, other projects answer ProjectNotExist. */
  projects?: string[];
  /** When set (`project/logstore`), other logstores answer LogStoreNotExist until created with POST /logstores. */
  logstores?: string[];
  /** Refuse bodies over these limits (PostBodyTooLarge / InvalidLogSize). */
  maxRawBytes?: number;
  maxLogs?: number;
  /** Milliseconds added to the server's clock (to test RequestTimeExpired and the client's re-sync). */
  clockSkewMs?: number;
  /** Called for every request before it is checked; a reply short-circuits it. */
  fault?: (req: FakeSlsRequest) => FaultReply | undefined;
}

export interface FakeSls {
  /** `sls+http://127.0.0.1:{port}` — add `?project=…`. */
  url: string;
  port: number;
  /** Env for the agent/sink: the credentials this server accepts. */
  env: Record<string, string>;
  logGroups: ReceivedLogGroup[];
  requests: FakeSlsRequest[];
  /** CreateLogStore bodies received (parsed JSON) with their project. */
  created: { project: string; body: Record<string, unknown> }[];
  /** Requests the server refused because they were malformed (signature, MD5, encoding…): should stay empty. */
  problems: string[];
  setFault(fault: FakeSlsOptions['fault']): void;
  close(): Promise<void>;
}

export async function startFakeSls(opts: FakeSlsOptions = {}): Promise<FakeSls> {
  const ak = opts.accessKeyId ?? 'test-access-key-id';
  const secret = opts.accessKeySecret ?? 'test-access-key-secret';
  const logstores = opts.logstores ? new Set(opts.logstores) : undefined;
  let fault = opts.fault;
  const state = {
    logGroups: [] as ReceivedLogGroup[],
    requests: [] as FakeSlsRequest[],
    created: [] as { project: string; body: Record<string, unknown> }[],
    problems: [] as string[],
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        handle(req, res, Buffer.concat(chunks));
      } catch (err) {
        reply(res, 500, 'InternalServerError', String(err));
      }
    });
  });

  function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    const host = String(req.headers.host ?? '');
    const projectHeader = req.headers['x-log-project'];
    const project =
      typeof projectHeader === 'string' ? projectHeader : /^[a-z0-9-]+\./.test(host) && !/^\d/.test(host) ? host.split('.')[0] : undefined;
    const m = /^\/logstores\/([^/]+)\/shards\/lb$/.exec(url.pathname);
    const logstore = m ? decodeURIComponent(m[1]!) : undefined;
    const r: FakeSlsRequest = {
      n: state.requests.length + 1,
      method: req.method ?? '',
      path: url.pathname,
      query,
      project,
      logstore,
      headers: req.headers,
      body,
    };
    state.requests.push(r);

    const f = fault?.(r);
    if (f === 'reset') {
      req.socket.destroy();
      return;
    }
    if (f) {
      res.writeHead(f.status, { 'x-log-requestid': requestId(), 'content-type': 'application/json', ...f.headers });
      res.end(f.body ?? JSON.stringify({ errorCode: f.errorCode, errorMessage: f.errorMessage ?? f.errorCode }));
      return;
    }

    const problem = (status: number, code: string, msg: string): void => {
      state.problems.push(`#${r.n} ${code}: ${msg}`);
      reply(res, status, code, msg);
    };

    // Authentication first, as SLS does.
    const now = Date.now() + (opts.clockSkewMs ?? 0);
    const date = String(req.headers.date ?? '');
    const dateMs = Date.parse(date);
    if (Number.isNaN(dateMs)) return problem(400, 'InvalidRequestTime', `bad Date ${date}`);
    if (Math.abs(dateMs - now) > 15 * 60_000) {
      res.setHeader('x-log-time', String(Math.floor(now / 1000)));
      return reply(res, 400, 'RequestTimeExpired', 'Request time is out of range');
    }
    if (req.headers['x-log-apiversion'] !== '0.6.0') return problem(400, 'InvalidAPIVersion', 'x-log-apiversion');
    if (req.headers['x-log-signaturemethod'] !== 'hmac-sha1') return problem(400, 'InvalidSignatureMethod', 'x-log-signaturemethod');
    const md5 = createHash('md5').update(body).digest('hex').toUpperCase();
    if (body.length > 0 && req.headers['content-md5'] !== md5) {
      return problem(400, 'InvalidContentMD5', `Content-MD5 ${req.headers['content-md5']} != ${md5}`);
    }
    const auth = String(req.headers.authorization ?? '');
    const am = /^LOG ([^:]+):(.+)$/.exec(auth);
    if (!am || am[1] !== ak) return problem(401, 'InvalidAccessKeyId', 'The AccessKeyId is not found');
    const expected = createHmac('sha1', secret).update(signString(req, url), 'utf8').digest('base64');
    if (am[2] !== expected) return problem(401, 'SignatureNotMatch', 'signature does not match');
    if (opts.securityToken !== undefined && req.headers['x-acs-security-token'] !== opts.securityToken) {
      return problem(401, 'Unauthorized', 'The security token you provided is invalid');
    }
    if (!project) return problem(400, 'ProjectNotExist', 'no project in Host or x-log-project');
    if (opts.projects && !opts.projects.includes(project)) return reply(res, 404, 'ProjectNotExist', `Project ${project} does not exist`);

    if (req.method === 'POST' && url.pathname === '/logstores') return createLogstore(res, project, body, problem);
    if (req.method !== 'POST' || !logstore) return reply(res, 404, 'RequestNotSupported', `${req.method} ${url.pathname}`);
    if (logstores && !logstores.has(`${project}/${logstore}`)) {
      return reply(res, 404, 'LogStoreNotExist', `logstore ${logstore} does not exist`);
    }
    if (req.headers['content-type'] !== 'application/x-protobuf') return problem(400, 'PostBodyInvalid', 'content-type');
    const rawSize = Number(req.headers['x-log-bodyrawsize']);
    if (!Number.isInteger(rawSize)) return problem(400, 'InvalidBodyRawSize', 'x-log-bodyrawsize');
    const ct = String(req.headers['x-log-compresstype'] ?? '');
    let raw: Buffer;
    try {
      raw = ct === 'lz4' ? lz4DecompressStrict(body, rawSize) : ct === 'deflate' ? inflateSync(body) : ct === '' ? body : Buffer.alloc(0);
    } catch (err) {
      return problem(400, 'PostBodyInvalid', `decompress ${ct}: ${String(err)}`);
    }
    if (ct !== 'lz4' && ct !== 'deflate' && ct !== '') return problem(400, 'InvalidCompressType', ct);
    if (raw.length !== rawSize) return problem(400, 'PostBodyInvalid', `raw ${raw.length} != x-log-bodyrawsize ${rawSize}`);
    if (opts.maxRawBytes !== undefined && rawSize > opts.maxRawBytes) return reply(res, 413, 'PostBodyTooLarge', `body ${rawSize}`);
    let group: DecodedLogGroup;
    try {
      group = decodeLogGroup(raw);
    } catch (err) {
      return problem(400, 'PostBodyInvalid', `protobuf: ${String(err)}`);
    }
    if (opts.maxLogs !== undefined && group.Logs.length > opts.maxLogs) return reply(res, 400, 'InvalidLogSize', `${group.Logs.length} logs`);
    const rid = requestId();
    state.logGroups.push({ project, logstore, compressType: ct, rawSize, requestId: rid, logGroup: group });
    res.writeHead(200, { 'x-log-requestid': rid });
    res.end();
  }

  function createLogstore(res: ServerResponse, project: string, body: Buffer, problem: (s: number, c: string, m: string) => void): void {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return problem(400, 'LogstoreInfoInvalid', 'body is not JSON');
    }
    const name = parsed.logstoreName;
    if (typeof name !== 'string' || typeof parsed.ttl !== 'number' || typeof parsed.shardCount !== 'number') {
      return problem(400, 'LogstoreInfoInvalid', 'logstoreName, ttl and shardCount are required');
    }
    state.created.push({ project, body: parsed });
    const key = `${project}/${name}`;
    if (logstores?.has(key)) return reply(res, 400, 'LogstoreAlreadyExist', `logstore ${name} already exists`);
    logstores?.add(key);
    res.writeHead(200, { 'x-log-requestid': requestId() });
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `sls+http://127.0.0.1:${port}`,
    port,
    env: { ALIBABA_CLOUD_ACCESS_KEY_ID: ak, ALIBABA_CLOUD_ACCESS_KEY_SECRET: secret, ...(opts.securityToken ? { ALIBABA_CLOUD_SECURITY_TOKEN: opts.securityToken } : {}) },
    ...state,
    setFault(f) {
      fault = f;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** The v1 string to sign, from the request as received. */
function signString(req: IncomingMessage, url: URL): string {
  const h = req.headers;
  const logHeaders = Object.keys(h)
    .filter((k) => k.startsWith('x-log-') || k.startsWith('x-acs-'))
    .sort()
    .map((k) => `${k}:${String(h[k]).trim()}\n`)
    .join('');
  const params = [...url.searchParams.keys()].sort();
  const resource = params.length ? `${url.pathname}?${params.map((k) => `${k}=${url.searchParams.get(k)}`).join('&')}` : url.pathname;
  return `${req.method}\n${h['content-md5'] ?? ''}\n${h['content-type'] ?? ''}\n${h.date ?? ''}\n${logHeaders}${resource}`;
}

function reply(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'x-log-requestid': requestId(), 'content-type': 'application/json' });
  res.end(JSON.stringify({ errorCode: code, errorMessage: message }));
}

function requestId(): string {
  return randomBytes(12).toString('hex').toUpperCase();
}
