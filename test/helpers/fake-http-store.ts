/**
 * A fake HTTP log store for tests: a real node:http (or https) server on 127.0.0.1 that accepts SPEC §3 batch
 * bodies (gzip or not), remembers what it stored, and misbehaves on demand.
 *
 * ```ts
 * const store = await startFakeHttpStore({ dedupe: true });
 * const sink = createHttpSink(new URL(store.url), ctx);           // POSTs to http://127.0.0.1:PORT/ingest
 * store.setFault(({ n }) => (n % 3 === 0 ? { status: 503, headers: { 'retry-after': '1' } } : 'ok'));
 * await store.downFor(30_000);                                    // refuses connections for 30 s, then serves again
 * await store.whenEvents(1000);                                   // resolves once 1000 logs are stored
 * expect(store.logs()).toHaveLength(1000);
 * await store.close();
 * ```
 *
 * Faults (`setFault(fn)`, fn called once per request, after its body was read):
 * - `'ok'`              store the batch, answer 200 `{"ok":true}` (the default)
 * - `{status, headers?, body?}`  answer that, store nothing (a 2xx status stores the batch too)
 * - `'reset'`           reset the connection (TCP RST) without answering; nothing stored
 * - `'slow:MS'`         store the batch, answer 200 only after MS (the client may have timed out by then: a store
 *                       that commits and then answers late is exactly what makes duplicates without dedupe)
 * - `'down'`            the store goes down (listener closed, every connection cut) until `start()`;
 *                       `'down:MS'` comes back by itself after MS. This request is cut, nothing stored.
 *
 * With `dedupe: true` a batch whose Idempotency-Key was already stored is answered 200 and not stored again.
 * A body that is not a valid batch (bad gzip, bad JSON, no `logs` array) is answered 400 and counted in `invalid`.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** A decoded SPEC §3 HTTP batch body. */
export interface StoredBatchBody {
  logstore: string;
  project?: string;
  product?: string;
  source: string;
  tags: Record<string, string>;
  logs: Array<Record<string, unknown>>;
}

export interface StoredBatch {
  /** Idempotency-Key header ('' when missing). */
  key: string;
  headers: IncomingHttpHeaders;
  body: StoredBatchBody;
  /** Size of the request body as sent (compressed when gzip). */
  wireBytes: number;
}

/** One request as the store saw it, whatever it answered. */
export interface SeenRequest {
  n: number;
  method: string;
  path: string;
  key: string;
  headers: IncomingHttpHeaders;
  /** What the store did: 'stored', 'duplicate', 'reset', 'down', 'invalid', or the status it answered. */
  outcome: string;
}

export type FaultAnswer =
  | 'ok'
  | 'reset'
  | 'down'
  | `down:${number}`
  | `slow:${number}`
  | { status: number; headers?: Record<string, string>; body?: string };

export type FaultFn = (req: { n: number; key: string; headers: IncomingHttpHeaders; body?: StoredBatchBody }) => FaultAnswer;

export interface FakeHttpStoreOptions {
  /** Answer 200 without storing again when an Idempotency-Key was already stored. */
  dedupe?: boolean;
  /** Path of the URL handed out (any path is accepted). Default `/ingest`. */
  path?: string;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Fixed port; default 0 (any free one, then kept across stop/start). */
  port?: number;
}

export interface FakeHttpStore {
  /** `http://127.0.0.1:PORT/ingest` (https when tls was given). */
  readonly url: string;
  readonly port: number;
  /** Stored batches in arrival order (with dedupe: each key once). */
  readonly received: StoredBatch[];
  /** Every request seen, in order. */
  readonly requests: SeenRequest[];
  /** Idempotency-Key → number of requests that carried it (any outcome). */
  readonly keysSeen: Map<string, number>;
  /** Requests answered 400 because their body was not a valid batch. */
  readonly invalid: number;
  /** True while the store is listening. */
  readonly up: boolean;
  /** Every stored log, in arrival order. */
  logs(): Array<Record<string, unknown>>;
  /** Resolves once at least `count` logs are stored (rejects after timeoutMs, default 30 s). */
  whenEvents(count: number, timeoutMs?: number): Promise<void>;
  /** Sets (or with undefined clears) the per-request fault function. */
  setFault(fn: FaultFn | undefined): void;
  /** Goes down: stops listening and cuts every connection (clients get ECONNREFUSED). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** stop(), then start() after ms; resolves once it is up again. */
  downFor(ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeHttpStore(opts: FakeHttpStoreOptions = {}): Promise<FakeHttpStore> {
  const path = opts.path ?? '/ingest';
  const received: StoredBatch[] = [];
  const requests: SeenRequest[] = [];
  const keysSeen = new Map<string, number>();
  const storedKeys = new Set<string>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  let fault: FaultFn | undefined;
  let invalid = 0;
  let logCount = 0;
  let n = 0;
  let up = false;
  let closed = false;

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res).catch(() => req.socket.destroy());
  };
  const server: Server = opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : createHttpServer(handler);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // The tls 'connection' event gives the raw socket; also track the TLS socket so stop() can cut it.
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  function store(batch: StoredBatch): 'stored' | 'duplicate' {
    if (opts.dedupe && storedKeys.has(batch.key)) return 'duplicate';
    storedKeys.add(batch.key);
    received.push(batch);
    logCount += batch.body.logs.length;
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (logCount >= waiters[i].count) waiters.splice(i, 1)[0].resolve();
    }
    return 'stored';
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const key = String(req.headers['idempotency-key'] ?? '');
    const seen: SeenRequest = { n: ++n, method: req.method ?? '', path: req.url ?? '', key, headers: req.headers, outcome: '' };
    requests.push(seen);
    keysSeen.set(key, (keysSeen.get(key) ?? 0) + 1);

    let body: StoredBatchBody | undefined;
    let problem: string | undefined;
    try {
      const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      body = JSON.parse(text) as StoredBatchBody;
      if (!body || !Array.isArray(body.logs)) problem = 'no "logs" array';
    } catch (err) {
      problem = (err as Error).message;
    }
    const answer = fault ? fault({ n: seen.n, key, headers: req.headers, body }) : 'ok';
    const batch = body && !problem ? { key, headers: req.headers, body, wireBytes: raw.length } : undefined;

    if (answer === 'reset') {
      seen.outcome = 'reset';
      req.socket.resetAndDestroy();
      return;
    }
    if (typeof answer === 'string' && (answer === 'down' || answer.startsWith('down:'))) {
      seen.outcome = 'down';
      req.socket.resetAndDestroy();
      const ms = answer === 'down' ? undefined : Number(answer.slice(5));
      if (ms === undefined) await stop();
      else void downFor(ms);
      return;
    }
    if (typeof answer === 'object') {
      if (answer.status >= 200 && answer.status < 300 && batch) store(batch);
      seen.outcome = String(answer.status);
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.body ?? '');
      return;
    }
    if (!batch) {
      invalid++;
      seen.outcome = 'invalid';
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`invalid batch: ${problem}`);
      return;
    }
    seen.outcome = store(batch);
    const ok = () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    };
    if (answer.startsWith('slow:')) {
      const t = setTimeout(() => {
        timers.delete(t);
        if (!res.destroyed) ok();
      }, Number(answer.slice(5)));
      timers.add(t);
      return;
    }
    ok();
  }

  async function listen(port: number): Promise<void> {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    up = true;
  }

  async function stop(): Promise<void> {
    if (!up) return;
    up = false;
    for (const t of timers) clearTimeout(t);
    timers.clear();
    const closedP = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    server.closeAllConnections();
    await closedP;
  }

  // Pending comebacks of downFor(): close() ends them early so that nobody waits on a closed store.
  const comebacks = new Set<() => void>();

  async function downFor(ms: number): Promise<void> {
    await stop();
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        comebacks.delete(done);
        resolve();
      }
      comebacks.add(done);
    });
    if (!closed && !up) await listen(port);
  }

  await listen(opts.port ?? 0);
  const port = (server.address() as { port: number }).port;
  const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}${path}`;

  return {
    url,
    port,
    received,
    requests,
    keysSeen,
    get invalid() {
      return invalid;
    },
    get up() {
      return up;
    },
    logs: () => received.flatMap((b) => b.body.logs),
    whenEvents(count: number, timeoutMs = 30_000): Promise<void> {
      if (logCount >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`fake store: ${logCount} of ${count} logs after ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        });
      });
    },
    setFault(fn) {
      fault = fn;
    },
    stop,
    async start() {
      if (!up && !closed) await listen(port);
    },
    downFor,
    async close() {
      closed = true;
      for (const done of [...comebacks]) done();
      await stop();
    },
  };
}
