/**
 * A test Loki push endpoint: `POST /loki/api/v1/push`, JSON body `{"streams":[{"stream":{labels},"values":[["ns",
 * "line"], …]}]}` (Content-Type application/json, gzip allowed), 204 on success. It applies Loki's rules per
 * stream (a stream = its exact label set): an entry older than the stream's newest by more than `windowNs`
 * (0 = strict ordering, as Loki before unordered writes) is refused with Loki's message
 * `entry with timestamp … ignored, reason: 'entry out of order' for stream: {…},` while the rest of the push is
 * stored, and the whole push answers 400 listing them; an entry equal in timestamp and line to a stored one is a
 * duplicate and ignored (as Loki does). Label names must be valid; `fault(n)` can answer 429 (with Retry-After)
 * or 503 before anything is stored. `tenant` requires that `X-Scope-OrgID`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface FakeLokiOptions {
  windowNs?: bigint;
  fault?: (n: number) => 429 | 503 | undefined;
  tenant?: string;
}

export interface LokiEntry {
  ns: bigint;
  line: string;
}

export interface FakeLoki {
  url: string;
  /** Stream key (sorted label JSON) → entries in arrival order. */
  streams: Map<string, { labels: Record<string, string>; entries: LokiEntry[] }>;
  stats: { pushes: number; refused: number; duplicates: number; r429: number };
  close(): Promise<void>;
}

export async function startFakeLoki(opts: FakeLokiOptions = {}): Promise<FakeLoki> {
  const streams: FakeLoki['streams'] = new Map();
  const stats = { pushes: 0, refused: 0, duplicates: 0, r429: 0 };
  const windowNs = opts.windowNs ?? 0n;

  const server = createServer((req, res) => void handle(req, res).catch(() => res.destroy()));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const n = ++stats.pushes;
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/loki/api/v1/push') return text(res, 404, '404 page not found\n');
    if (opts.tenant && req.headers['x-scope-orgid'] !== opts.tenant) return text(res, 401, 'no org id\n');
    if (!String(req.headers['content-type']).startsWith('application/json')) return text(res, 415, 'unsupported content type (this fake takes JSON)\n');
    const f = opts.fault?.(n);
    if (f === 429) {
      stats.r429++;
      res.setHeader('retry-after', '1');
      return text(res, 429, 'Ingestion rate limit exceeded for user fake (limit: 4194304 bytes/sec) while attempting to ingest 1 lines totaling 1 bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased\n');
    }
    if (f === 503) return text(res, 503, 'at least 2 live replicas required, could only find 1\n');
    let body: { streams?: Array<{ stream?: Record<string, string>; values?: unknown[] }> };
    try {
      const raw = Buffer.concat(chunks);
      body = JSON.parse((req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'));
    } catch {
      return text(res, 400, 'loghttp.PushRequest.Streams: ReadArray: expect [ or , or ] or n\n');
    }
    const ignored: string[] = [];
    for (const s of body.streams ?? []) {
      const labels = s.stream ?? {};
      for (const k of Object.keys(labels)) if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k)) return text(res, 400, `error at least one label pair is invalid: ${k}\n`);
      if (Object.keys(labels).length === 0) return text(res, 400, 'error at least one label pair is required per stream\n');
      const key = JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
      let stream = streams.get(key);
      if (!stream) streams.set(key, (stream = { labels, entries: [] }));
      for (const v of s.values ?? []) {
        if (!Array.isArray(v) || typeof v[0] !== 'string' || typeof v[1] !== 'string' || !/^\d+$/.test(v[0])) return text(res, 400, 'invalid entry\n');
        const entry = { ns: BigInt(v[0]), line: v[1] };
        const newest = stream.entries.reduce((m, e) => (e.ns > m ? e.ns : m), -1n);
        if (stream.entries.some((e) => e.ns === entry.ns && e.line === entry.line)) {
          stats.duplicates++;
          continue;
        }
        if (newest >= 0n && entry.ns < newest - windowNs) {
          stats.refused++;
          ignored.push(`entry with timestamp ${goTime(entry.ns)} ignored, reason: 'entry out of order' for stream: ${promLabels(labels)},`);
          continue;
        }
        stream.entries.push(entry);
      }
    }
    if (ignored.length > 0) return text(res, 400, `${ignored.join('\n')}\ntotal ignored: ${ignored.length} out of ${body.streams?.reduce((s, x) => s + (x.values?.length ?? 0), 0)}\n`);
    res.writeHead(204).end();
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    streams,
    stats,
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}

/** Go's time.Time.String() in UTC: `2006-01-02 15:04:05.999999999 +0000 UTC` (trailing zeros of the fraction cut). */
export function goTime(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const iso = new Date(ms).toISOString();
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? `.${frac}` : ''} +0000 UTC`;
}

function promLabels(l: Record<string, string>): string {
  return `{${Object.entries(l).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}}`;
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
