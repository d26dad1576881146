// Seeded generator of realistic audit.k8s.io/v1 Event lines, built from the real events in test/fixtures/audit
// (Falco's minikube traces and apisnoop's), re-stamped with fresh auditIDs and times the way the API server
// writes them: one request yields RequestReceived (no bodies), sometimes ResponseStarted (long-running verbs),
// then ResponseComplete with the bodies its level allows; the stages of concurrent requests interleave.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventKey } from './ndjson.js';

export const AUDIT_FIXTURES = fileURLToPath(new URL('../fixtures/audit/', import.meta.url));

/** Small fast PRNG (mulberry32): same seed ⇒ same sequence, so a failing run can be replayed. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
}

export function createRng(seed: number): Rng {
  let a = seed >>> 0 || 0x9e3779b9;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
  };
}

/** One line as the log backend writes it. */
export interface AuditLine {
  /** The encoded event including its trailing `\n` (what one write(2) of the API server carries). */
  line: string;
  /** `eventKey(auditID, stage)`. */
  key: string;
  auditID: string;
  stage: string;
  level: string;
  /** UTF-8 byte length of `line`. */
  bytes: number;
}

export interface AuditGenOptions {
  seed: number;
  /** Time of the first request (default 2026-11-20T07:00:00Z); each request advances it by 0–3 ms. */
  startTime?: Date;
  /** Probability that a new request gets a large body (default 0.005). */
  largeRate?: number;
  /** Size range of a large event in bytes (default 64 KiB – 256 KiB). */
  largeBytes?: [number, number];
  /** Probability that a new request reuses a client-set Audit-ID from `collisionIds` (default 0). */
  collisionRate?: number;
  collisionIds?: string[];
  /** How many requests may be open at once (their stages interleave); default 8. */
  maxOpen?: number;
}

export interface AuditGen {
  /** The next line: a new request's first stage, or a later stage of an open request. */
  next(): AuditLine;
  /** `n` lines. */
  take(n: number): AuditLine[];
  /** One complete request whose ResponseComplete is about `bytes` long (padded body), as its lines in order. */
  large(bytes: number): AuditLine[];
  /** The remaining stages of every open request, so that all requests are complete. */
  drain(): AuditLine[];
  /** Moves the generator's clock forward to `time` (never back): e.g. past a rotation instant. */
  advanceTo(time: Date): void;
  /** Open requests right now. */
  readonly open: number;
}

type Json = Record<string, unknown>;

interface Template {
  requestURI: string;
  verb: string;
  user: unknown;
  sourceIPs: unknown;
  userAgent?: string;
  objectRef?: unknown;
  responseStatus?: Json;
  requestObject?: unknown;
  responseObject?: unknown;
  annotations?: Json;
  longRunning: boolean;
}

let cachedTemplates: Template[] | undefined;

/** Every real event of the fixtures that looks like an Event, turned into a request template. */
export function loadTemplates(): Template[] {
  if (cachedTemplates) return cachedTemplates;
  const files = [
    ...fs
      .readdirSync(path.join(AUDIT_FIXTURES, 'falco-k8s_audit'))
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => path.join(AUDIT_FIXTURES, 'falco-k8s_audit', f)),
    path.join(AUDIT_FIXTURES, 'apisnoop-example-user-agent.log'),
  ];
  const out: Template[] = [];
  for (const file of files) {
    for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
      const text = raw.trim();
      if (!text) continue;
      let ev: Json;
      try {
        ev = JSON.parse(text) as Json;
      } catch {
        continue;
      }
      if (typeof ev.auditID !== 'string' || typeof ev.verb !== 'string' || typeof ev.requestURI !== 'string') continue;
      const t: Template = {
        requestURI: ev.requestURI,
        verb: ev.verb,
        user: ev.user ?? { username: 'minikube-user', groups: ['system:masters', 'system:authenticated'] },
        sourceIPs: ev.sourceIPs ?? ['192.168.99.1'],
        longRunning: ev.stage === 'ResponseStarted' || /\/(exec|attach|portforward|proxy)(\?|$)/.test(ev.requestURI) || ev.verb === 'watch',
      };
      if (typeof ev.userAgent === 'string') t.userAgent = truncateUserAgent(ev.userAgent);
      if (ev.objectRef !== undefined) t.objectRef = ev.objectRef;
      if (ev.responseStatus !== undefined) t.responseStatus = ev.responseStatus as Json;
      if (ev.requestObject !== undefined) t.requestObject = ev.requestObject;
      if (ev.responseObject !== undefined) t.responseObject = ev.responseObject;
      if (ev.annotations !== undefined) t.annotations = ev.annotations as Json;
      out.push(t);
    }
  }
  if (out.length === 0) throw new Error(`no audit event templates found under ${AUDIT_FIXTURES}`);
  cachedTemplates = out;
  return out;
}

/** The API server cuts a userAgent above 1024 characters and marks it (research §2.6). */
function truncateUserAgent(ua: string): string {
  return ua.length > 1024 ? `${ua.slice(0, 1024)}...TRUNCATED` : ua;
}

/** Go's encoding/json escapes <, >, & and U+2028/2029 (research §2.1); so do we, byte for byte. */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** metav1.MicroTime as the API server prints it: RFC 3339 with exactly 6 fractional digits, UTC. */
export function microTime(ms: number, micros: number): string {
  const iso = new Date(ms).toISOString(); // 2026-11-20T07:00:00.123Z
  return `${iso.slice(0, 23)}${String(micros).padStart(3, '0')}Z`;
}

interface OpenRequest {
  auditID: string;
  template: Template;
  level: string;
  receivedMs: number;
  receivedMicros: number;
  stages: string[];
  pad?: string;
}

const LEVELS = ['Metadata', 'Request', 'RequestResponse'] as const;

export function createAuditGen(opts: AuditGenOptions): AuditGen {
  const rng = createRng(opts.seed);
  const templates = loadTemplates();
  const largeRate = opts.largeRate ?? 0.005;
  const [largeMin, largeMax] = opts.largeBytes ?? [64 * 1024, 256 * 1024];
  const collisionRate = opts.collisionRate ?? 0;
  const collisionIds = opts.collisionIds ?? ['client-set-audit-id'];
  const maxOpen = opts.maxOpen ?? 8;
  let clockMs = (opts.startTime ?? new Date('2026-11-20T07:00:00Z')).getTime();
  const open: OpenRequest[] = [];

  const uuid = (): string => {
    const hex = (n: number): string => {
      let s = '';
      for (let i = 0; i < n; i++) s += Math.floor(rng.next() * 16).toString(16);
      return s;
    };
    return `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[rng.int(0, 3)]}${hex(3)}-${hex(12)}`;
  };

  const padding = (bytes: number): string => {
    // Printable, incompressible-ish text, like a ConfigMap or Secret list in a RequestResponse body.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const chunk: string[] = [];
    for (let i = 0; i < Math.min(bytes, 4096); i++) chunk.push(alphabet[Math.floor(rng.next() * 64)]!);
    const base = chunk.join('');
    return base.repeat(Math.ceil(bytes / base.length)).slice(0, bytes);
  };

  const startRequest = (forceLargeBytes?: number): OpenRequest => {
    const template = rng.pick(templates);
    clockMs += rng.int(0, 3);
    const auditID = collisionRate > 0 && rng.next() < collisionRate ? rng.pick(collisionIds) : uuid();
    const r = rng.next();
    const level = r < 0.55 ? LEVELS[0] : r < 0.8 ? LEVELS[1] : LEVELS[2];
    const req: OpenRequest = {
      auditID,
      template,
      level: forceLargeBytes !== undefined ? 'RequestResponse' : level,
      receivedMs: clockMs,
      receivedMicros: rng.int(0, 999),
      stages: template.longRunning ? ['RequestReceived', 'ResponseStarted', 'ResponseComplete'] : ['RequestReceived', 'ResponseComplete'],
    };
    if (forceLargeBytes !== undefined) req.pad = padding(forceLargeBytes);
    else if (rng.next() < largeRate) req.pad = padding(rng.int(largeMin, largeMax));
    return req;
  };

  const render = (req: OpenRequest): AuditLine => {
    const stage = req.stages.shift()!;
    const t = req.template;
    const ev: Json = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: req.level,
      auditID: req.auditID,
      stage,
      requestURI: t.requestURI,
      verb: t.verb,
      user: t.user,
      sourceIPs: t.sourceIPs,
    };
    if (t.userAgent !== undefined) ev.userAgent = t.userAgent;
    if (t.objectRef !== undefined) ev.objectRef = t.objectRef;
    const later = stage !== 'RequestReceived';
    if (later) {
      ev.responseStatus = stage === 'ResponseStarted' ? { metadata: {}, code: 101 } : (t.responseStatus ?? { metadata: {}, code: 200 });
      // Bodies are attached after RequestReceived, and only as far as the level allows (research §2.6).
      if (req.level !== 'Metadata') {
        if (req.pad !== undefined) {
          ev.requestObject = { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'bulk', namespace: 'default' }, data: { blob: req.pad } };
        } else if (t.requestObject !== undefined) ev.requestObject = t.requestObject;
      }
      if (req.level === 'RequestResponse' && t.responseObject !== undefined) ev.responseObject = t.responseObject;
    }
    const receivedAt = microTime(req.receivedMs, req.receivedMicros);
    ev.requestReceivedTimestamp = receivedAt;
    if (later) {
      clockMs += rng.int(0, 2);
      ev.stageTimestamp = microTime(Math.max(clockMs, req.receivedMs), rng.int(0, 999));
      ev.annotations = t.annotations ?? { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' };
    } else {
      ev.stageTimestamp = receivedAt;
    }
    const line = `${goJson(ev)}\n`;
    return { line, key: eventKey(req.auditID, stage), auditID: req.auditID, stage, level: req.level, bytes: Buffer.byteLength(line) };
  };

  const next = (): AuditLine => {
    if (open.length > 0 && (open.length >= maxOpen || rng.next() < 0.5)) {
      const i = rng.int(0, open.length - 1);
      const req = open[i]!;
      const out = render(req);
      if (req.stages.length === 0) open.splice(i, 1);
      return out;
    }
    const req = startRequest();
    const out = render(req);
    open.push(req);
    return out;
  };

  return {
    next,
    take: (n) => Array.from({ length: n }, next),
    large(bytes) {
      const req = startRequest(bytes);
      const lines: AuditLine[] = [];
      while (req.stages.length) lines.push(render(req));
      return lines;
    },
    drain() {
      const lines: AuditLine[] = [];
      for (const req of open.splice(0)) while (req.stages.length) lines.push(render(req));
      return lines;
    },
    advanceTo(time) {
      clockMs = Math.max(clockMs, time.getTime());
    },
    get open() {
      return open.length;
    },
  };
}
