/** Shared pieces of the audit stage tests: fixture events, the stage context, deep diffs of two events. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseLine } from '../../../src/parse/parse-line.js';
import type { ShipEvent } from '../../../src/parse/ship-event.js';
import type { EventContext, ProcessorResult } from '../../../src/process/stage.js';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

export function fixtureLines(rel: string): string[] {
  return fs
    .readFileSync(path.join(FIXTURES, rel), 'utf8')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '');
}

/** Every line of the real audit fixtures (falco traces, apisnoop), as the parser makes them events. */
export function realAuditLines(): Array<{ name: string; line: string }> {
  const out: Array<{ name: string; line: string }> = [];
  const dir = path.join(FIXTURES, 'audit', 'falco-k8s_audit');
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    for (const line of fixtureLines(`audit/falco-k8s_audit/${f}`)) out.push({ name: f, line });
  }
  for (const line of fixtureLines('audit/apisnoop-example-user-agent.log')) out.push({ name: 'apisnoop', line });
  return out;
}

export function eventOf(line: string): ShipEvent {
  return parseLine(line, false, true, 1_700_000_000_000);
}

export function ctxOf(over: Partial<EventContext> = {}): EventContext {
  return { inputKey: 'audit', stream: 'dev1-ino2-fp3', offset: 0, tags: {}, ...over };
}

export function single(r: ProcessorResult): ShipEvent {
  if (r === null || Array.isArray(r)) throw new Error(`expected one event, got ${JSON.stringify(r)}`);
  return r;
}

export interface Diff {
  path: string;
  before: unknown;
  after: unknown;
}

/** Leaves where two JSON values differ; JSON text inside strings is compared parsed when both parse as objects. */
export function diffs(a: unknown, b: unknown, at = ''): Diff[] {
  if (typeof a === 'string' && typeof b === 'string' && a !== b) {
    const pa = tryParse(a);
    const pb = tryParse(b);
    if (pa !== null && pb !== null && typeof pa === 'object' && typeof pb === 'object') return diffs(pa, pb, `${at}<json>`);
  }
  if (a === b) return [];
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) !== Array.isArray(b)) return [{ path: at, before: a, after: b }];
  const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
  const out: Diff[] = [];
  for (const k of keys) {
    const sub = Array.isArray(a) ? `${at}[${k}]` : at === '' ? k : `${at}.${k}`;
    out.push(...diffs((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], sub));
  }
  return out;
}

function tryParse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}

/** A RequestResponse update of a ConfigMap of about `mb` MB: big data in both bodies, managedFields too. */
export function bigEvent(mb: number, managed = true): string {
  const chunk = 'x'.repeat(1000);
  const data: Record<string, string> = {};
  for (let i = 0; i < mb * 1000; i++) data[`key-${i}`] = chunk;
  const meta = (rv: string) => ({
    name: 'huge',
    namespace: 'default',
    resourceVersion: rv,
    ...(managed ? { managedFields: Array.from({ length: 200 }, (_, i) => ({ manager: `m${i}`, operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { [`f:key-${i}`]: {} } } })) } : {}),
  });
  const small = { kind: 'ConfigMap', apiVersion: 'v1', metadata: meta('1'), data: { a: 'b' } };
  return JSON.stringify({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'RequestResponse',
    auditID: 'big-1',
    stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/default/configmaps/huge',
    verb: 'update',
    user: { username: 'alice', groups: ['system:authenticated'] },
    objectRef: { resource: 'configmaps', namespace: 'default', name: 'huge', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 200 },
    requestObject: small,
    responseObject: { kind: 'ConfigMap', apiVersion: 'v1', metadata: meta('2'), data },
    requestReceivedTimestamp: '2026-11-20T08:00:00.000001Z',
    stageTimestamp: '2026-11-20T08:00:00.100001Z',
  });
}

