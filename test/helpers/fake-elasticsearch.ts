/**
 * A test Elasticsearch that follows the `_bulk` API to the letter, as far as tailship uses it: `POST /_bulk` or
 * `POST /{index}/_bulk`, NDJSON (Content-Type application/x-ndjson or application/json, gzip allowed), action
 * line + source line per document, the body ending in a newline (else 400 illegal_argument_exception), one item
 * per action in order, `errors: true` when any item failed, `create` of an existing `_id` → 409
 * version_conflict_engine_exception. Faults on demand:
 * - `rate429`: that share of items answer 429 es_rejected_execution_exception (per attempt, seeded random);
 * - `isBad(doc)`: a reason string makes the item a 400 document_parsing_exception (deterministic: a bad document
 *   is bad every time, as a mapping conflict is);
 * - `afterIndex`: after indexing a request, answer 503 or cut the connection instead of the 200 (a store that
 *   committed and then failed to answer: the resend must be acknowledged as 409 duplicates).
 * - `apiKey`: require `Authorization: ApiKey <apiKey>`, else 401 security_exception.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface FakeEsOptions {
  rate429?: number;
  isBad?: (doc: Record<string, unknown>, id: string) => string | undefined;
  afterIndex?: (n: number) => 'ok' | 'reset' | 503;
  apiKey?: string;
  random?: () => number;
}

export interface FakeEs {
  url: string;
  port: number;
  /** index → _id → document (the first version created). */
  indices: Map<string, Map<string, Record<string, unknown>>>;
  /** Per _id: how many times a create returned 201 (must be 1). */
  created: Map<string, number>;
  stats: { requests: number; items: number; r429: number; r409: number; bad: number; invalid: number; pipelines: string[] };
  headers: Array<Record<string, string | string[] | undefined>>;
  close(): Promise<void>;
}

export async function startFakeElasticsearch(opts: FakeEsOptions = {}): Promise<FakeEs> {
  const random = opts.random ?? Math.random;
  const indices = new Map<string, Map<string, Record<string, unknown>>>();
  const created = new Map<string, number>();
  const stats = { requests: 0, items: 0, r429: 0, r409: 0, bad: 0, invalid: 0, pipelines: [] as string[] };
  const headers: FakeEs['headers'] = [];
  let seq = 0;

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    stats.requests++;
    headers.push(req.headers);
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/(?:([^/_][^/]*)\/)?_bulk$/.exec(url.pathname);
    if (req.method !== 'POST' || !m) return json(res, 404, esError('resource_not_found_exception', `no handler for ${req.method} ${url.pathname}`, 404));
    if (opts.apiKey && req.headers.authorization !== `ApiKey ${opts.apiKey}`) {
      return json(res, 401, esError('security_exception', 'missing authentication credentials for REST request [/_bulk]', 401));
    }
    const ct = String(req.headers['content-type'] ?? '');
    if (!/^application\/(x-ndjson|json)\b/.test(ct)) return json(res, 406, { error: `Content-Type header [${ct}] is not supported`, status: 406 });
    let text: string;
    try {
      const raw = Buffer.concat(chunks);
      text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
    } catch {
      stats.invalid++;
      return json(res, 400, esError('parse_exception', 'could not decompress the request body', 400));
    }
    if (!text.endsWith('\n')) {
      stats.invalid++;
      return json(res, 400, esError('illegal_argument_exception', 'The bulk request must be terminated by a newline [\\n]', 400));
    }
    const pipeline = url.searchParams.get('pipeline');
    if (pipeline) stats.pipelines.push(pipeline);
    const lines = text.slice(0, -1).split('\n');
    const items: Array<Record<string, unknown>> = [];
    let errors = false;
    for (let i = 0; i < lines.length; i++) {
      let action: Record<string, { _index?: string; _id?: string }>;
      let doc: Record<string, unknown>;
      try {
        action = JSON.parse(lines[i]!);
        const op = Object.keys(action)[0];
        if (op !== 'create' && op !== 'index') throw new Error(`unsupported action ${op}`);
        doc = JSON.parse(lines[++i] ?? 'x');
      } catch (e) {
        stats.invalid++;
        return json(res, 400, esError('x_content_parse_exception', `malformed action/source line ${i + 1}: ${(e as Error).message}`, 400));
      }
      stats.items++;
      const op = Object.keys(action)[0]!;
      const meta = action[op]!;
      const index = meta._index ?? m[1];
      const id = meta._id ?? `auto-${++seq}`;
      if (!index) return json(res, 400, esError('action_request_validation_exception', 'Validation Failed: 1: index is missing;', 400));
      let docs = indices.get(index);
      if (!docs) indices.set(index, (docs = new Map()));
      const base = { _index: index, _id: id };
      if (random() < (opts.rate429 ?? 0)) {
        stats.r429++;
        errors = true;
        items.push({ [op]: { ...base, status: 429, error: { type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation [coordinating_and_primary_bytes=0, max_coordinating_and_primary_bytes=0]' } } });
        continue;
      }
      if (op === 'create' && docs.has(id)) {
        stats.r409++;
        errors = true;
        items.push({ [op]: { ...base, status: 409, error: { type: 'version_conflict_engine_exception', reason: `[${id}]: version conflict, document already exists (current version [1])`, index, shard: '0', index_uuid: 'fake' } } });
        continue;
      }
      const bad = opts.isBad?.(doc, id);
      if (bad) {
        stats.bad++;
        errors = true;
        items.push({ [op]: { ...base, status: 400, error: { type: 'document_parsing_exception', reason: `[1:${i}] ${bad}` } } });
        continue;
      }
      docs.set(id, doc);
      created.set(id, (created.get(id) ?? 0) + 1);
      items.push({ [op]: { ...base, _version: 1, result: 'created', _shards: { total: 2, successful: 1, failed: 0 }, _seq_no: seq++, _primary_term: 1, status: 201 } });
    }
    const after = opts.afterIndex?.(stats.requests) ?? 'ok';
    if (after === 'reset') return void res.socket?.destroy();
    if (after === 503) return json(res, 503, esError('unavailable_shards_exception', 'primary shard is not active', 503));
    json(res, 200, { took: 3, errors, items });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    indices,
    created,
    stats,
    headers,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function esError(type: string, reason: string, status: number) {
  return { error: { root_cause: [{ type, reason }], type, reason }, status };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-elastic-product': 'Elasticsearch' });
  res.end(text);
}
