// Shared pieces of the end-to-end tests (issue 4, "Must show"): the real agent process (test/helpers/agent-process),
// a real HTTP store on 127.0.0.1, and only outside observations: /proc, /metrics, the state dir, what the store got.
import fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { createAuditGen, type AuditLine } from '../helpers/audit-gen.js';
import { waitUntil, withChildren, type AgentProcess } from '../helpers/agent-process.js';

const gunzipAsync = promisify(gunzip);

/** Writes `count` seeded audit lines (complete requests: every stage) to `file`; returns them in write order. */
export function writeAuditFile(file: string, count: number, seed: number): AuditLine[] {
  const gen = createAuditGen({ seed, largeRate: 0 });
  const lines = gen.take(count);
  lines.push(...gen.drain());
  fs.writeFileSync(file, lines.map((l) => l.line).join(''));
  return lines;
}

/**
 * Port of the agent's health/metrics server. The agent is started with `--listen 127.0.0.1:0` (the OS picks a
 * free port: no race with other tests) and `--log-level info`; it logs the bound address once it listens.
 */
export async function metricsPort(agent: AgentProcess, timeoutMs = 20_000): Promise<number> {
  return waitUntil(
    () => {
      for (const l of agent.logs) {
        if (l.msg === 'health and metrics server listening' && typeof l.listen === 'string') {
          const port = Number(/:(\d+)$/.exec(l.listen)?.[1]);
          if (port > 0) return port;
        }
      }
      return undefined;
    },
    () => 'the agent to log "health and metrics server listening" with its port',
    { agent, timeoutMs },
  );
}

/** GET a path of the agent's server: status and body, or undefined when it does not answer. */
export async function httpGet(port: number, p: string): Promise<{ status: number; text: string } | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${p}`);
    return { status: res.status, text: await res.text() };
  } catch {
    return undefined;
  }
}

/** A memory line of /proc/PID/status: VmRSS (resident now) or VmHWM (the process's peak resident set so far). */
export type MemoryField = 'VmRSS' | 'VmHWM';

/** One memory line of /proc/PID/status in bytes (default VmRSS); undefined once the process is gone. */
export function readMemory(pid: number, field: MemoryField = 'VmRSS'): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
  return m ? Number(m[1]) * 1024 : undefined;
}

export interface RssSamplerOptions {
  /** Which line to read; default VmRSS. */
  field?: MemoryField;
  /** Also sample the pid's children (the relaunched agent: src/launch/heap-bound.ts), each on its own. */
  children?: boolean;
}

/**
 * Samples a child's RSS every `everyMs` (and once at once); `max` is the highest value seen since start (or since
 * `max = 0`), over every sampled process; `peaks` is the highest per process since start (not reset).
 */
export class RssSampler {
  max = 0;
  samples = 0;
  last = 0;
  readonly peaks = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;
  constructor(
    readonly pid: number,
    everyMs = 200,
    private readonly opts: RssSamplerOptions = {},
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }
  /** One sample now: e.g. a last VmHWM read while the processes still exist. */
  sample(): void {
    for (const pid of this.opts.children ? withChildren(this.pid) : [this.pid]) {
      const v = readMemory(pid, this.opts.field);
      if (v === undefined) continue;
      this.samples++;
      this.last = v;
      if (v > this.max) this.max = v;
      this.peaks.set(pid, Math.max(this.peaks.get(pid) ?? 0, v));
    }
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

export interface CheckpointStream {
  id: string;
  file: string;
  offset: number;
  size: number;
  sealed: number[];
}

/** The stream records of stateDir/checkpoints.json ([] while the file does not exist yet). */
export function readCheckpoints(stateDir: string): CheckpointStream[] {
  try {
    const data = JSON.parse(fs.readFileSync(path.join(stateDir, 'checkpoints.json'), 'utf8')) as { streams: CheckpointStream[] };
    return data.streams;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** One record of the dead-letter spool (src/deliver/dead-letter.ts). */
export interface DeadLetterRecord {
  statusCode?: number;
  kind: string;
  responseBody?: string;
  batch: { id: string; logstore: string; events: number; range: { stream: string; start: number; end: number } };
  logs: Array<Record<string, unknown>>;
}

/** Every record of every file under stateDir/dead-letter/. */
export function readDeadLetters(stateDir: string): DeadLetterRecord[] {
  const dir = path.join(stateDir, 'dead-letter');
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: DeadLetterRecord[] = [];
  for (const name of names.sort()) {
    const text = fs.readFileSync(path.join(dir, name), 'utf8');
    for (const line of text.split('\n')) if (line) out.push(JSON.parse(line) as DeadLetterRecord);
  }
  return out;
}

// ---- the numbered backlog: gigabytes of realistic lines, cheap to write and cheap to verify --------------------

const ID_PREFIX = '"auditID":"e-';

/**
 * Writes about `targetBytes` of audit lines to `file`: a pool of seeded generated events repeated, each copy with
 * a unique auditID `e-<n>` (n = 0, 1, 2 … in file order), so that a store can check delivery with a bitmap
 * instead of parsing. Big writes (16 MiB) keep it at disk speed. Returns the number of lines and bytes.
 */
export function writeNumberedBacklog(file: string, targetBytes: number, seed: number): { lines: number; bytes: number } {
  const gen = createAuditGen({ seed, largeRate: 0 });
  const pool: Array<{ head: string; tail: string; bytes: number }> = [];
  for (const l of [...gen.take(2000), ...gen.drain()]) {
    const marker = `"auditID":"${l.auditID}"`;
    const at = l.line.indexOf(marker);
    if (at < 0) throw new Error(`generated line has no ${marker}`);
    const head = `${l.line.slice(0, at)}${ID_PREFIX}`;
    const tail = l.line.slice(at + marker.length - 1);
    pool.push({ head, tail, bytes: Buffer.byteLength(head) + Buffer.byteLength(tail) });
  }
  const fd = fs.openSync(file, 'w');
  let lines = 0;
  let bytes = 0;
  try {
    let parts: string[] = [];
    let chunk = 0;
    while (bytes < targetBytes) {
      const p = pool[lines % pool.length]!;
      const id = String(lines);
      parts.push(p.head, id, p.tail);
      const n = p.bytes + id.length;
      chunk += n;
      bytes += n;
      lines++;
      if (chunk >= 16 * 1024 * 1024) {
        fs.writeSync(fd, parts.join(''));
        parts = [];
        chunk = 0;
      }
    }
    if (parts.length) fs.writeSync(fd, parts.join(''));
  } finally {
    fs.closeSync(fd);
  }
  return { lines, bytes };
}

/**
 * A lean HTTP store for the numbered backlog: it keeps no bodies, only a count per `e-<n>` id found in what it
 * received (gunzipped, scanned with indexOf: gigabytes stay cheap for the test process). The existing
 * fake-http-store keeps every parsed log, which a 1 GB backlog cannot afford. Goes down (connection refused)
 * and up again on the same port.
 */
export interface CountingStore {
  readonly url: string;
  readonly port: number;
  readonly up: boolean;
  /** Requests answered 200. */
  readonly requests: number;
  /** Ids received at least once. */
  readonly distinct: number;
  /** Extra receptions of ids already received. */
  readonly duplicates: number;
  /** Ids outside [0, expected). */
  readonly foreign: number;
  /** Ids in [0, expected) never received (first `limit` of them). */
  missing(limit?: number): number[];
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** `delayMs`: each request is answered that much later (a slow store: the agent's in-flight budget stays full). */
export async function startCountingStore(expected: number, opts: { up?: boolean; delayMs?: number } = {}): Promise<CountingStore> {
  const counts = new Uint8Array(expected);
  const sockets = new Set<Socket>();
  let distinct = 0;
  let duplicates = 0;
  let foreign = 0;
  let requests = 0;
  let up = false;

  const scan = (text: string): void => {
    let i = text.indexOf(ID_PREFIX);
    while (i >= 0) {
      const start = i + ID_PREFIX.length;
      const end = text.indexOf('"', start);
      const n = Number(text.slice(start, end));
      if (Number.isInteger(n) && n >= 0 && n < expected) {
        if (counts[n] === 0) distinct++;
        else duplicates++;
        if (counts[n]! < 255) counts[n]!++;
      } else foreign++;
      i = text.indexOf(ID_PREFIX, end);
    }
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipAsync(raw) : Promise.resolve(raw);
      body.then(
        (buf) => {
          const answer = (): void => {
            scan(buf.toString('utf8'));
            requests++;
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end('{"ok":true}');
          };
          if (opts.delayMs) setTimeout(answer, opts.delayMs);
          else answer();
        },
        () => {
          res.writeHead(400);
          res.end('bad gzip');
        },
      );
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('clientError', (_e, s) => s.destroy());

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        up = true;
        resolve();
      });
    });
  const stop = async (): Promise<void> => {
    if (!up) return;
    up = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    server.closeAllConnections();
    await closed;
  };

  await listen(0);
  const port = (server.address() as { port: number }).port;
  if (opts.up === false) await stop();

  return {
    url: `http://127.0.0.1:${port}/ingest`,
    port,
    get up() {
      return up;
    },
    get requests() {
      return requests;
    },
    get distinct() {
      return distinct;
    },
    get duplicates() {
      return duplicates;
    },
    get foreign() {
      return foreign;
    },
    missing(limit = 10) {
      const out: number[] = [];
      for (let n = 0; n < expected && out.length < limit; n++) if (counts[n] === 0) out.push(n);
      return out;
    },
    stop,
    async start() {
      if (!up) await listen(port);
    },
    close: stop,
  };
}

export const MiB = 1024 * 1024;
export const mb = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;

