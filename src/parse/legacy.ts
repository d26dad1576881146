// SPEC §9: the API server's legacy text audit lines, as audit.k8s.io/v1 Events (research tailers-audit.md §2.5).
//
//   1.8+ (`--audit-log-format=legacy`), one line per stage:
//     <RFC3339Nano> AUDIT: id="…" stage="…" ip="…" method="<verb>" user="…" groups="\"a\",\"b\"" as="<self>"
//       asgroups="<lookup>" [user-agent="…"] namespace="…" uri="…" response="<code|<deferred>>"
//   pre-1.7 ("basic audit"), two lines per request sharing the id:
//     <RFC3339Nano> AUDIT: id="…" ip="…" method="<HTTP method>" user="…" … uri="…"   (the request line)
//     <RFC3339Nano> AUDIT: id="…" response="200"                                       (the response line)
// Values are Go %q strings; `groups` is a list of %q strings, joined by commas, quoted again.

export interface LegacyLine {
  /** The line's time as written (RFC 3339, any offset). */
  time: string;
  /** Unix seconds and nanoseconds of `time`. */
  sec: number;
  ns: number;
  /** key → unquoted value, in line order. */
  fields: Map<string, string>;
}

export type LegacyKind = 'stage' | 'request' | 'response';

export interface LegacyError {
  error: string;
}

const HEAD_RE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})) AUDIT: /;

/** Cheap test for the hot path: does this line look like a legacy audit line at all? */
export function looksLegacy(line: string): boolean {
  return line.length > 30 && line.charCodeAt(4) === 0x2d && line.includes(' AUDIT: ') && HEAD_RE.test(line);
}

/** Parses a legacy line into its time and fields; an error (unterminated quote, bad escape…) says what is wrong. */
export function parseLegacyLine(line: string): LegacyLine | LegacyError | undefined {
  const m = HEAD_RE.exec(line);
  if (!m) return undefined;
  const t = parseTime(m[1]!);
  if (!t) return { error: `legacy audit line: invalid time ${JSON.stringify(m[1])}` };
  const fields = new Map<string, string>();
  let i = m[0].length;
  const n = line.length;
  while (i < n) {
    while (i < n && line.charCodeAt(i) === 0x20) i++;
    if (i >= n) break;
    const eq = line.indexOf('=', i);
    if (eq < 0) return { error: `legacy audit line: text without key="value" at column ${i + 1}` };
    const key = line.slice(i, eq);
    if (!/^[a-z][a-z-]*$/.test(key)) return { error: `legacy audit line: invalid key ${JSON.stringify(key.slice(0, 40))} at column ${i + 1}` };
    if (line.charCodeAt(eq + 1) !== 0x22) return { error: `legacy audit line: the value of "${key}" is not quoted` };
    const v = unquoteGo(line, eq + 1);
    if ('error' in v) return { error: `legacy audit line: ${v.error} in the value of "${key}"` };
    fields.set(key, v.value);
    i = v.end;
  }
  if (!fields.has('id')) return { error: 'legacy audit line: no id="…"' };
  return { time: m[1]!, sec: t.sec, ns: t.ns, fields };
}

/** Which shape a parsed line has: a per-stage line, a pre-1.7 request line, or a pre-1.7 response line. */
export function legacyKind(l: LegacyLine): LegacyKind {
  if (l.fields.has('stage')) return 'stage';
  if (l.fields.has('response') && !l.fields.has('method') && !l.fields.has('uri')) return 'response';
  return 'request';
}

/** A Go %q string starting at `at` (the opening quote): its value and the index after the closing quote. */
export function unquoteGo(s: string, at: number): { value: string; end: number } | { error: string } {
  let out = '';
  let i = at + 1;
  let run = i;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 0x22) return { value: out + s.slice(run, i), end: i + 1 };
    if (c !== 0x5c) {
      i++;
      continue;
    }
    out += s.slice(run, i);
    const e = s[i + 1];
    const simple: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', "'": "'" };
    if (e === undefined) return { error: 'unterminated quote' };
    if (e in simple) {
      out += simple[e];
      i += 2;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = s.slice(i + 2, i + 2 + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) return { error: `invalid \\${e} escape` };
      const code = parseInt(hex, 16);
      // \xNN is one byte of (usually UTF-8) text; kept as that code unit, like Latin-1.
      out += e === 'x' ? String.fromCharCode(code) : String.fromCodePoint(Math.min(code, 0x10ffff));
      i += 2 + len;
    } else if (/[0-7]/.test(e)) {
      const oct = s.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(oct)) return { error: 'invalid octal escape' };
      out += String.fromCharCode(parseInt(oct, 8));
      i += 4;
    } else {
      return { error: `invalid escape \\${e}` };
    }
    run = i;
  }
  return { error: 'unterminated quote' };
}

/** `"a","b"` (the unquoted `groups` value) → ['a', 'b']; `<none>`/`<lookup>` → undefined. */
export function parseGoList(v: string | undefined): string[] | undefined {
  if (v === undefined || v === '<none>' || v === '<lookup>' || v === '') return undefined;
  const out: string[] = [];
  let i = 0;
  while (i < v.length) {
    if (v.charCodeAt(i) !== 0x22) return [v]; // not a quoted list: keep the value whole
    const q = unquoteGo(v, i);
    if ('error' in q) return [v];
    out.push(q.value);
    i = q.end;
    if (i < v.length && v[i] !== ',') return [v];
    i++;
  }
  return out;
}

function parseTime(s: string): { sec: number; ns: number } | undefined {
  const frac = /\.(\d+)/.exec(s);
  const ms = Date.parse(s.replace(/\.\d+/, ''));
  if (Number.isNaN(ms)) return undefined;
  return { sec: ms / 1000, ns: frac ? Number((frac[1]! + '000000000').slice(0, 9)) : 0 };
}

/** The line's time as an RFC 3339 UTC timestamp with the digits the line had (`…T10:08:19.885328047Z`). */
export function utcTimestamp(sec: number, ns: number, digits: number): string {
  const base = new Date(sec * 1000).toISOString().slice(0, 19);
  if (digits === 0) return `${base}Z`;
  return `${base}.${String(ns).padStart(9, '0').slice(0, digits)}Z`;
}

function fracDigits(time: string): number {
  const m = /\.(\d+)/.exec(time);
  return m ? Math.min(9, m[1]!.length) : 0;
}

/** `<none>`, `<unknown>`, `<self>`, `<lookup>`, `<deferred>`: the legacy writer's markers for "no value". */
function present(v: string | undefined): v is string {
  return v !== undefined && !(v.startsWith('<') && v.endsWith('>'));
}

export interface LegacyEvent {
  [key: string]: unknown;
}

/**
 * The audit.k8s.io/v1 Event of one legacy line, field by field (SPEC §9). For a pre-1.7 pair, `request` is the
 * request line and `response` the response line (stage ResponseComplete, its time as stageTimestamp).
 */
export function toEvent(request: LegacyLine | undefined, response?: LegacyLine): LegacyEvent {
  const f = request?.fields ?? new Map<string, string>();
  const main = request ?? response!;
  const ev: LegacyEvent = { kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: main.fields.get('id') };
  const stage = f.get('stage') ?? (response ? 'ResponseComplete' : 'RequestReceived');
  ev.stage = stage;
  const uri = f.get('uri');
  if (uri !== undefined) ev.requestURI = uri;
  const method = f.get('method');
  if (method !== undefined) ev.verb = method.toLowerCase();
  const user: Record<string, unknown> = {};
  const username = f.get('user');
  if (present(username)) user.username = username;
  const groups = parseGoList(f.get('groups'));
  if (groups) user.groups = groups;
  if (request) ev.user = user;
  const as = f.get('as');
  const asGroups = parseGoList(f.get('asgroups'));
  if (present(as) || asGroups) {
    const imp: Record<string, unknown> = {};
    if (present(as)) imp.username = as;
    if (asGroups) imp.groups = asGroups;
    ev.impersonatedUser = imp;
  }
  const ip = f.get('ip');
  if (present(ip)) ev.sourceIPs = [ip];
  const ua = f.get('user-agent');
  if (present(ua)) ev.userAgent = ua;
  const ns = f.get('namespace');
  if (present(ns)) ev.objectRef = { namespace: ns };
  const code = (response ?? request)?.fields.get('response');
  if (code !== undefined && /^\d{1,3}$/.test(code)) ev.responseStatus = { metadata: {}, code: Number(code) };
  ev.requestReceivedTimestamp = utcTimestamp(main.sec, main.ns, fracDigits(main.time));
  const last = response ?? main;
  ev.stageTimestamp = utcTimestamp(last.sec, last.ns, fracDigits(last.time));
  return ev;
}
