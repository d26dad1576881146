import { execFileSync } from 'node:child_process';
import { ErrorCodes, ErrorCodes as E } from '../../../src/errors.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { SinkError, type Sink } from '../../../src/deliver/sink.js';
import { httpBatchBody } from '../../../src/deliver/sinks/http-batch-body.js';
import { createHttpSink } from '../../../src/deliver/sinks/http-sink.js';
import { parseHttpSinkUrl } from '../../../src/deliver/sinks/http-sink-config.js';
import { startFakeHttpStore, type FakeHttpStore } from '../../helpers/fake-http-store.js';
import { captureLogger, lineEvent, makeBatch, objectEvent, tempDir, thrownCode } from './support.js';

const SECRET = 'Bearer s3cr3t-t0ken-do-not-log';

let store: FakeHttpStore;
const open: Sink[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  await store?.close();
  store = undefined as unknown as FakeHttpStore;
});

function sink(url: string, env: Record<string, string> = {}, logger = captureLogger()) {
  const s = createHttpSink(new URL(url), { logger: logger.logger, env });
  open.push(s);
  return s;
}

async function failure(p: Promise<unknown>): Promise<SinkError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(SinkError);
  return err as SinkError;
}

describe('http sink request', () => {
  test('body is exactly the SPEC §3 batch shape: shared tags once, markers in the log’s own __tag__', async () => {
    store = await startFakeHttpStore();
    const batch = makeBatch({
      events: [
        objectEvent({ kind: 'Event', auditID: 'a1', stageTimestamp: '2023-11-14T22:13:21Z' }, 1_700_000_001),
        lineEvent('{"cut', 1_700_000_002, { __truncated__: 'true', __parse_error__: 'unexpected end' }),
      ],
    });
    await sink(store.url).send(batch);
    expect(store.received).toHaveLength(1);
    expect(store.received[0].body).toEqual({
      logstore: 'audit-store',
      project: 'k8s-log-c1',
      product: 'k8s-audit',
      source: 'node-1',
      tags: { audit: 'apiserver', __hostname__: 'node-1', __path__: '/var/log/kubernetes/audit.log' },
      logs: [
        { kind: 'Event', auditID: 'a1', stageTimestamp: '2023-11-14T22:13:21Z', __time__: 1_700_000_001 },
        { content: '{"cut', __time__: 1_700_000_002, __tag__: { __truncated__: 'true', __parse_error__: 'unexpected end' } },
      ],
    });
    expect(Object.keys(store.received[0].body)).toEqual(['logstore', 'project', 'product', 'source', 'tags', 'logs']);
  });

  test('project and product are left out when the input has none', () => {
    const text = httpBatchBody(makeBatch({ n: 1, project: undefined, product: undefined }));
    expect(Object.keys(JSON.parse(text))).toEqual(['logstore', 'source', 'tags', 'logs']);
  });

  test('gzip by default (level 3), a round trip gives the same body; ?gzip=false sends plain JSON', async () => {
    store = await startFakeHttpStore();
    const batch = makeBatch({ n: 200 });
    await sink(store.url).send(batch);
    await sink(`${store.url}?gzip=false`).send(batch);
    await sink(`${store.url}?gzip=9`).send(batch);
    const [gz, plain, gz9] = store.received;
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(gz9.headers['content-encoding']).toBe('gzip');
    expect(gz.headers['content-type']).toBe('application/json');
    expect(plain.headers['content-type']).toBe('application/json');
    expect(gz.body).toEqual(JSON.parse(httpBatchBody(batch)));
    expect(plain.body).toEqual(gz.body);
    expect(gz9.body).toEqual(gz.body);
    expect(gz.wireBytes).toBeLessThan(plain.wireBytes / 3);
    expect(plain.wireBytes).toBe(Buffer.byteLength(httpBatchBody(batch)));
  });

  test('Idempotency-Key is the batch id, the same on every retry', async () => {
    store = await startFakeHttpStore();
    store.setFault(({ n }) => (n === 1 ? { status: 503 } : 'ok'));
    const s = sink(store.url);
    const batch = makeBatch({ id: 'dev:ino:fp:0-4096' });
    await failure(s.send(batch));
    await s.send(batch);
    expect(store.requests.map((r) => r.key)).toEqual(['dev:ino:fp:0-4096', 'dev:ino:fp:0-4096']);
    expect(store.keysSeen.get('dev:ino:fp:0-4096')).toBe(2);
  });

  test('?header.NAME=VALUE adds headers; tailship’s own parameters are not sent, the store’s own are', async () => {
    store = await startFakeHttpStore();
    await sink(`${store.url}?tenant=t1&header.X-Scope-OrgID=team-a&header.x-extra=1&gzip=false&timeout=5000&insecure=false`).send(makeBatch());
    const req = store.requests[0];
    expect(req.path).toBe('/ingest?tenant=t1');
    expect(req.headers['x-scope-orgid']).toBe('team-a');
    expect(req.headers['x-extra']).toBe('1');
    expect(req.headers['content-encoding']).toBeUndefined();
  });

  test('Authorization comes from TAILSHIP_HTTP_AUTHORIZATION and never appears in logs or errors', async () => {
    store = await startFakeHttpStore();
    const log = captureLogger('trace');
    const s = sink(`${store.url}?insecure=false`, { TAILSHIP_HTTP_AUTHORIZATION: SECRET }, log);
    await s.send(makeBatch());
    expect(store.requests[0].headers.authorization).toBe(SECRET);

    const errors: SinkError[] = [];
    for (const fault of [{ status: 401, body: 'bad token' }, { status: 503 }, { status: 400, body: 'nope' }, 'reset'] as const) {
      store.setFault(() => fault);
      errors.push(await failure(s.send(makeBatch())));
    }
    await store.stop();
    errors.push(await failure(s.send(makeBatch())));
    for (const e of errors) {
      const all = `${e.message} ${e.stack} ${JSON.stringify(e)} ${String(e.cause)} ${JSON.stringify(e.cause)}`;
      expect(all).not.toContain('s3cr3t');
    }
    expect(log.text()).not.toContain('s3cr3t');
  });

  test('user info in the URL becomes Basic auth and leaves the URL and messages', async () => {
    store = await startFakeHttpStore();
    const url = store.url.replace('http://', 'http://alice:pa%24%24word@');
    store.setFault(() => ({ status: 503 }));
    const err = await failure(sink(url).send(makeBatch()));
    expect(store.requests[0].headers.authorization).toBe(`Basic ${Buffer.from('alice:pa$$word').toString('base64')}`);
    expect(err.message).not.toContain('alice');
    expect(err.message).not.toContain('pa');
  });
});

describe('http sink answers → SinkError kinds', () => {
  // One store for the whole table (the top-level afterEach only closes per-test stores).
  let shared: FakeHttpStore;
  beforeAll(async () => {
    shared = await startFakeHttpStore();
  });

  test.each<[string, { status: number; headers?: Record<string, string>; body?: string }, Partial<SinkError>]>([
    ['200 acknowledges', { status: 200 }, {}],
    ['204 acknowledges', { status: 204 }, {}],
    ['503 is retryable', { status: 503, body: 'busy' }, { kind: 'retryable', code: E.SINK_HTTP_5XX, statusCode: 503, retryAfterMs: undefined }],
    ['500 is retryable', { status: 500 }, { kind: 'retryable', code: E.SINK_HTTP_5XX, statusCode: 500 }],
    ['408 is retryable', { status: 408 }, { kind: 'retryable', code: E.SINK_TIMEOUT, statusCode: 408 }],
    ['429 with Retry-After seconds', { status: 429, headers: { 'retry-after': '7' } }, { kind: 'retryable', code: E.SINK_THROTTLED, statusCode: 429, retryAfterMs: 7000 }],
    ['503 with Retry-After 0', { status: 503, headers: { 'retry-after': '0' } }, { kind: 'retryable', code: E.SINK_HTTP_5XX, retryAfterMs: 0 }],
    ['413 is too-large', { status: 413, body: 'too big' }, { kind: 'too-large', code: E.SINK_TOO_LARGE, statusCode: 413, responseBody: 'too big' }],
    ['401 is blocked', { status: 401 }, { kind: 'blocked', code: E.SINK_AUTH, statusCode: 401 }],
    ['403 is blocked', { status: 403 }, { kind: 'blocked', code: E.SINK_AUTH, statusCode: 403 }],
    ['400 is rejected with the body', { status: 400, body: '{"error":"field x"}' }, { kind: 'rejected', code: E.SINK_HTTP_4XX, statusCode: 400, responseBody: '{"error":"field x"}' }],
    ['422 is rejected', { status: 422 }, { kind: 'rejected', code: E.SINK_HTTP_4XX, statusCode: 422 }],
    ['404 is rejected (SPEC: other 4xx)', { status: 404 }, { kind: 'rejected', code: E.SINK_HTTP_4XX, statusCode: 404 }],
    ['a redirect needs an operator', { status: 308, headers: { location: 'https://elsewhere/x?token=1' } }, { kind: 'blocked', code: E.SINK_HTTP_REDIRECT, statusCode: 308 }],
  ])('%s', async (_name, answer, expected) => {
    shared.setFault(() => answer);
    const s = sink(shared.url);
    const result = await s.send(makeBatch()).then(() => undefined, (e: unknown) => e);
    if (!expected.kind) return expect(result).toBeUndefined();
    expect(result).toBeInstanceOf(SinkError);
    expect(result).toMatchObject(expected);
  });

  test('401 and 403 carry a fix', async () => {
    shared.setFault(() => ({ status: 401 }));
    const err = await failure(sink(shared.url).send(makeBatch()));
    expect(err.code).toBe(E.SINK_AUTH);
    expect(err.fix).toBeTruthy();
  });

  test('a redirect message shows where to, but not the query of the target', async () => {
    shared.setFault(() => ({ status: 301, headers: { location: 'https://new.example/ingest?token=abc' } }));
    const err = await failure(sink(shared.url).send(makeBatch()));
    expect(err.code).toBe(E.SINK_HTTP_REDIRECT);
    expect(err.message).not.toContain('token=abc');
  });

  test('429 with an HTTP-date Retry-After', async () => {
    const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 60_000);
    shared.setFault(() => ({ status: 429, headers: { 'retry-after': at.toUTCString() } }));
    const err = await failure(sink(shared.url).send(makeBatch()));
    expect(err.kind).toBe('retryable');
    // The date is a minute ahead; the request itself takes far less than 50 s.
    expect(err.retryAfterMs).toBeGreaterThan(10_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(61_000);
  });

  test('a 429 whose body does not arrive within ?timeout= still counts as a 429 with its Retry-After', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(429, { 'retry-after': '7', 'content-length': '1000' });
        res.write('slow down'); // and the rest never comes
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const err = await failure(sink(`http://127.0.0.1:${port}/ingest?timeout=300`).send(makeBatch()));
      expect(err.code).toBe(E.SINK_THROTTLED);
      expect(err.statusCode).toBe(429);
      expect(err.retryAfterMs).toBe(7000);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  test('only the first 4 KiB of an error body are kept', async () => {
    shared.setFault(() => ({ status: 400, body: 'e'.repeat(100_000) }));
    const err = await failure(sink(shared.url).send(makeBatch()));
    expect(err.responseBody).toBe('e'.repeat(4096));
    expect(err.message.length).toBeLessThan(1000);
  });

  test('a reset connection is retryable', async () => {
    shared.setFault(() => 'reset');
    const err = await failure(sink(shared.url).send(makeBatch()));
    expect(err.kind).toBe('retryable');
    expect(err.statusCode).toBeUndefined();
    expect(err.code).toBe(E.SINK_NETWORK);
  });

  test('an answer slower than ?timeout= is a retryable timeout', async () => {
    shared.setFault(() => 'slow:3000');
    const err = await failure(sink(`${shared.url}?timeout=200`).send(makeBatch()));
    expect(err.kind).toBe('retryable');
    expect(err.code).toBe(E.SINK_TIMEOUT);
  });

  test('a caller abort rejects with the caller’s reason, not a SinkError', async () => {
    shared.setFault(() => 'slow:3000');
    const ac = new AbortController();
    const p = sink(shared.url).send(makeBatch(), ac.signal);
    setTimeout(() => ac.abort(new DOMException('stop', 'AbortError')), 50);
    const err = await p.catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
  });

  afterAll(async () => {
    await shared.close();
  });
});

describe('http sink when the store is down', () => {
  test('connection refused is retryable, and the next send after the store is back succeeds on the same sink', async () => {
    store = await startFakeHttpStore();
    const s = sink(store.url);
    await s.send(makeBatch());
    await store.stop();
    const err = await failure(s.send(makeBatch()));
    expect(err.kind).toBe('retryable');
    expect(err.code).toBe(E.SINK_NETWORK);
    await store.start();
    await s.send(makeBatch());
    expect(store.received).toHaveLength(2);
  });
});

describe('http sink URI parameters', () => {
  test.each([
    '?gzip=maybe',
    '?gzip=0',
    '?timeout=abc',
    '?timeout=0',
    '?insecure=yes',
    '?ca=/nonexistent/ca.pem',
    '?header.content-type=text/plain',
    '?header.Idempotency-Key=x',
    '?header.bad%20name=x',
    '?header.x=a%0Ab',
  ])('%s is refused as an invalid sink option', (query) => {
    expect(thrownCode(() => parseHttpSinkUrl(new URL(`http://127.0.0.1:1/x${query}`), {}))).toBe(E.CONFIG_SINK_OPTION);
  });

  test('defaults: gzip level 3, 30 s timeout, TLS verification on', () => {
    const cfg = parseHttpSinkUrl(new URL('https://store.example:8443/v1/logs'), {});
    expect(cfg).toMatchObject({ gzipLevel: 3, timeoutMs: 30_000, insecure: false, headers: {}, display: 'https://store.example:8443/v1/logs' });
    expect(cfg.ca).toBeUndefined();
  });
});

describe('http sink over TLS', () => {
  let cert: { key: Buffer; cert: Buffer; certPath: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    const t = await tempDir('tailship-tls-');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(t.dir, 'key.pem'), '-out', join(t.dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    cert = { key: await readFile(join(t.dir, 'key.pem')), cert: await readFile(join(t.dir, 'cert.pem')), certPath: join(t.dir, 'cert.pem'), cleanup: t.cleanup };
  });
  afterAll(() => cert.cleanup());

  test('an untrusted certificate blocks (an operator must act) with a hint about ?ca=', async () => {
    store = await startFakeHttpStore({ tls: { key: cert.key, cert: cert.cert } });
    const err = await failure(sink(store.url).send(makeBatch()));
    expect(err.kind).toBe('blocked');
    expect(err.code).toBe(E.SINK_TLS_UNTRUSTED);
    expect(store.received).toHaveLength(0);
  });

  test('?ca=FILE trusts a private CA', async () => {
    store = await startFakeHttpStore({ tls: { key: cert.key, cert: cert.cert } });
    await sink(`${store.url}?ca=${encodeURIComponent(cert.certPath)}`).send(makeBatch({ n: 4 }));
    expect(store.logs()).toHaveLength(4);
  });

  test('?insecure=true works and warns loudly at start', async () => {
    store = await startFakeHttpStore({ tls: { key: cert.key, cert: cert.cert } });
    const log = captureLogger();
    await sink(`${store.url}?insecure=true`, {}, log).send(makeBatch({ n: 1 }));
    expect(store.logs()).toHaveLength(1);
    const warns = log.lines.filter((l) => l.level === 40);
    expect(warns).toHaveLength(1);
    expect(String(warns[0].msg)).toMatch(/VERIFICATION IS OFF/);
  });
});
