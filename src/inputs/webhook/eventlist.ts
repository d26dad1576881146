// The body the API server's webhook backend POSTs: an audit.k8s.io EventList (research tailers-audit.md §2.7).
// Validated whole before anything is kept. The body is scanned as bytes (a 32 MiB body is never one JS string);
// each item is parsed on its own to check that it is an Event, and spooled as the bytes the API server sent when
// they are already one line (its compact JSON), else as its compact re-serialisation.

export interface SpoolItem {
  /** One line of the spool, without the newline. */
  line: Buffer;
  /** Dedupe key: auditID + stage. */
  key: string;
}

export type EventListResult = { items: SpoolItem[] } | { error: string; reason: string };

const API_VERSIONS = new Set(['audit.k8s.io/v1', 'audit.k8s.io/v1beta1']);
/** The minimal shape of an Event: what every API server version writes, and what dedupe and policy need. */
const REQUIRED_STRINGS = ['auditID', 'stage', 'level', 'verb', 'requestURI'] as const;

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

function skipWs(b: Buffer, i: number): number {
  while (i < b.length && WS.has(b[i]!)) i++;
  return i;
}

/** End (exclusive) of the JSON string starting at `i` (its opening quote), or -1. */
function stringEnd(b: Buffer, i: number): number {
  let j = i + 1;
  for (;;) {
    const q = b.indexOf(0x22, j);
    if (q < 0) return -1;
    let bs = 0;
    for (let k = q - 1; k > i && b[k] === 0x5c; k--) bs++;
    if (bs % 2 === 0) return q + 1;
    j = q + 1;
  }
}

/** End (exclusive) of the JSON value starting at `i`: structural only, the slice is JSON.parse'd afterwards. */
function valueEnd(b: Buffer, i: number): number {
  const c = b[i];
  if (c === 0x22) return stringEnd(b, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    let j = i;
    while (j < b.length) {
      const d = b[j]!;
      if (d === 0x22) {
        j = stringEnd(b, j);
        if (j < 0) return -1;
        continue;
      }
      if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        depth--;
        if (depth === 0) return j + 1;
      }
      j++;
    }
    return -1;
  }
  let j = i;
  while (j < b.length && !WS.has(b[j]!) && b[j] !== 0x2c && b[j] !== 0x7d && b[j] !== 0x5d) j++;
  return j > i ? j : -1;
}

const fail = (error: string, reason: string): EventListResult => ({ error, reason });

function parseSlice(b: Buffer, s: number, e: number): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(b.toString('utf8', s, e)) };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

/** Checks one item; returns why it is not an Event, or undefined. */
export function notAnEvent(v: unknown): string | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'is not a JSON object';
  const o = v as Record<string, unknown>;
  if (o.kind !== undefined && o.kind !== 'Event') return `has kind ${JSON.stringify(o.kind)}, not Event`;
  if (o.apiVersion !== undefined && !API_VERSIONS.has(o.apiVersion as string)) return `has apiVersion ${JSON.stringify(o.apiVersion)}`;
  for (const k of REQUIRED_STRINGS) {
    if (typeof o[k] !== 'string' || (k !== 'requestURI' && o[k] === '')) return `has no ${k} string`;
  }
  return undefined;
}

/** `i` at the `[` of `items`: pushes each item's byte range; returns the index past the `]`, or the failure. */
function scanItems(b: Buffer, i: number, items: Array<[number, number]>): number | EventListResult {
  i = skipWs(b, i + 1);
  if (b[i] === 0x5d) return i + 1;
  for (;;) {
    i = skipWs(b, i);
    const e = valueEnd(b, i);
    if (e < 0) return fail('TAILSHIP_E_WEBHOOK_NOT_JSON', `the body is not JSON: items[${items.length}] is cut or malformed`);
    items.push([i, e]);
    i = skipWs(b, e);
    if (b[i] === 0x2c) {
      i++;
      continue;
    }
    if (b[i] === 0x5d) return i + 1;
    return fail('TAILSHIP_E_WEBHOOK_NOT_JSON', `the body is not JSON: "," or "]" expected after items[${items.length - 1}]`);
  }
}

/** Each item checked as an audit Event and made one spool line; nothing partial on an error. */
function spoolItems(b: Buffer, items: Array<[number, number]>): EventListResult {
  const out: SpoolItem[] = [];
  const anyBreak = b.indexOf(0x0a) >= 0 || b.indexOf(0x0d) >= 0;
  for (let n = 0; n < items.length; n++) {
    const [s, e] = items[n]!;
    const v = parseSlice(b, s, e);
    if (!v.ok) return fail('TAILSHIP_E_WEBHOOK_NOT_JSON', `items[${n}] is not JSON: ${v.message}`);
    const why = notAnEvent(v.value);
    if (why) return fail('TAILSHIP_E_WEBHOOK_BAD_EVENT', `items[${n}] ${why}: not an audit Event`);
    const o = v.value as Record<string, string>;
    // One line as sent when it is one already; a pretty-printed item is made compact.
    const slice = b.subarray(s, e);
    const oneLine = !anyBreak || (slice.indexOf(0x0a) < 0 && slice.indexOf(0x0d) < 0);
    const line = oneLine ? slice : Buffer.from(JSON.stringify(v.value));
    out.push({ line, key: `${o.auditID}\u0000${o.stage}` });
  }
  return { items: out };
}

/** Validates an EventList body and returns its events as spool lines; nothing partial on an error. */
export function parseEventList(b: Buffer): EventListResult {
  let i = skipWs(b, 0);
  if (b[i] !== 0x7b) {
    if (i >= b.length) return fail('TAILSHIP_E_WEBHOOK_NOT_JSON', 'the body is empty');
    const p = parseSlice(b, 0, b.length);
    return p.ok ? fail('TAILSHIP_E_WEBHOOK_NOT_EVENTLIST', 'the body is JSON but not an object') : fail('TAILSHIP_E_WEBHOOK_NOT_JSON', `the body is not JSON: ${p.message}`);
  }
  const top = new Map<string, unknown>();
  let items: Array<[number, number]> | undefined;
  i = skipWs(b, i + 1);
  if (b[i] === 0x7d) i++;
  else {
    for (;;) {
      i = skipWs(b, i);
      if (b[i] !== 0x22) return fail('TAILSHIP_E_WEBHOOK_NOT_JSON', `the body is not JSON: a key was expected at byte ${i}`);
      const ke = stringEnd(b, i);
      if (ke < 0) return fail('TAILSHIP_E_WEBHOOK_NOT_JSON', 'the body is not JSON: unterminated string');
      const key = parseSlice(b, i, ke);
      if (!key.ok) return fail('TAILSHIP_E_WEBHOOK_NOT_JSON', `the body is not JSON: ${key.message}`);
      i = skipWs(b, ke);
      if (b[i] !== 0x3a) return fail('TAILSHIP_E_WEBHOOK_NOT_JSON', `the body is not JSON: ":" expected at byte ${i}`);
      i = skipWs(b, i + 1);
      if (key.value === 'items' && b[i] === 0x5b) {
        items = [];
        const after = scanItems(b, i, items);
        if (typeof after !== 'number') return after;
        i = after;
        top.set('items', true);
      } else {
        const e = valueEnd(b, i);
        if (e < 0) return fail('TAILSHIP_E_WEBHOOK_NOT_JSON', `the body is not JSON: the value of ${JSON.stringify(key.value)} is malformed`);
        const v = parseSlice(b, i, e);
        if (!v.ok) return fail('TAILSHIP_E_WEBHOOK_NOT_JSON', `the body is not JSON: ${v.message}`);
        top.set(key.value as string, v.value);
        i = e;
      }
      i = skipWs(b, i);
      if (b[i] === 0x2c) {
        i++;
        continue;
      }
      if (b[i] === 0x7d) {
        i++;
        break;
      }
      return fail('TAILSHIP_E_WEBHOOK_NOT_JSON', `the body is not JSON: "," or "}" expected at byte ${i}`);
    }
  }
  if (skipWs(b, i) !== b.length) return fail('TAILSHIP_E_WEBHOOK_NOT_JSON', 'the body is not JSON: text after the object');
  if (top.get('kind') !== 'EventList') return fail('TAILSHIP_E_WEBHOOK_NOT_EVENTLIST', `kind is ${JSON.stringify(top.get('kind') ?? null)}, not EventList`);
  if (!API_VERSIONS.has(top.get('apiVersion') as string)) {
    return fail('TAILSHIP_E_WEBHOOK_NOT_EVENTLIST', `apiVersion is ${JSON.stringify(top.get('apiVersion') ?? null)}, not audit.k8s.io/v1 or v1beta1`);
  }
  if (!items) return fail('TAILSHIP_E_WEBHOOK_NOT_EVENTLIST', top.has('items') ? 'items is not an array' : 'the EventList has no items array');
  return spoolItems(b, items);
}
