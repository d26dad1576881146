import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { auditEventId } from '../../../src/audit/event-id.js';
import { renderLog } from '../../../src/deliver/render.js';
import { ErrorCodes, TailshipError } from '../../../src/errors.js';
import { toEcs } from '../../../src/schema/ecs.js';
import { eventIdOf, schemaDocument, takeSchemaParams } from '../../../src/schema/index.js';
import { ocsfActivity, toOcsf } from '../../../src/schema/ocsf.js';
import { toOtel } from '../../../src/schema/otel.js';
import { fixtureBatches } from './fixture-events.js';

const ECS_FIELDS = new Map(
  readFileSync(fileURLToPath(new URL('../../fixtures/ecs/ecs-fields.txt', import.meta.url)), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(' ') as [string, string]),
);

/** Leaf paths of a document (arrays of scalars are one leaf), stopping at the given prefixes. */
function leaves(o: Record<string, unknown>, stop: string[], prefix = ''): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(o)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (stop.includes(path)) continue;
    if (v && typeof v === 'object' && !Array.isArray(v)) out.push(...leaves(v as Record<string, unknown>, stop, path));
    else out.push([path, v]);
  }
  return out;
}

const batches = fixtureBatches(10);
const inputs = batches.flatMap((b) => b.events.map((event) => ({ event, tags: b.tags, eventId: eventIdOf(event, b.tags) })));

describe('schemas on the real fixtures', () => {
  test(`there are real events to check (${inputs.length})`, () => {
    expect(inputs.length).toBeGreaterThan(40);
  });

  test('ecs: every field outside kubernetes.audit.* and labels.* is in the ECS reference, with a value of its type', () => {
    const used = new Set<string>();
    for (const input of inputs) {
      const doc = toEcs(input, { bodies: 'string' });
      for (const [path, value] of leaves(doc, ['kubernetes', 'labels'])) {
        used.add(path);
        const type = ECS_FIELDS.get(path);
        expect(type, `${path} is not an ECS field`).toBeDefined();
        for (const v of Array.isArray(value) ? value : [value]) {
          if (type === 'date') expect(Number.isNaN(Date.parse(v as string)), `${path}=${v}`).toBe(false);
          else if (type === 'ip') expect(isIP(v as string), `${path}=${v}`).not.toBe(0);
          else if (type === 'long') expect(Number.isInteger(v), `${path}=${v}`).toBe(true);
          else expect(typeof v, `${path}`).toBe('string');
        }
      }
    }
    // the mapping of Elastic's integration is there
    for (const f of ['@timestamp', 'event.kind', 'event.action', 'event.id', 'event.dataset', 'user.name', 'source.ip', 'user_agent.original', 'orchestrator.type', 'orchestrator.resource.type', 'orchestrator.cluster.id', 'host.name', 'http.response.status_code', 'url.original']) {
      expect(used.has(f), f).toBe(true);
    }
  });

  test('ecs: the event under kubernetes.audit, annotations dedotted, bodies one string unless ?bodies=object', () => {
    for (const input of inputs) {
      const ev = JSON.parse(input.event.raw);
      const doc = toEcs(input, { bodies: 'string' }) as any;
      expect(doc.kubernetes.audit.auditID).toBe(ev.auditID);
      expect(doc['@timestamp']).toBe(new Date(Date.parse(ev.stageTimestamp ?? ev.timestamp)).toISOString().slice(0, 23) + (doc['@timestamp'] as string).slice(23));
      for (const k of Object.keys(doc.kubernetes.audit.annotations ?? {})) expect(k).not.toContain('.');
      if (ev.requestObject) expect(JSON.parse(doc.kubernetes.audit.requestObject)).toEqual(ev.requestObject);
      if (ev.responseObject) expect(typeof doc.kubernetes.audit.responseObject).toBe('string');
      const asObject = toEcs(input, { bodies: 'object' }) as any;
      if (ev.requestObject) expect(typeof asObject.kubernetes.audit.requestObject).toBe(Array.isArray(ev.requestObject) ? 'object' : 'object');
      expect(JSON.stringify(asObject)).not.toContain('"managedFields"');
      expect(doc.event.id).toBe(input.eventId);
      if (ev.annotations?.['authorization.k8s.io/decision'] === 'allow') expect(doc.event.outcome).toBe('success');
    }
  });

  test('ocsf 6003: the required fields are present and typed', () => {
    for (const input of inputs) {
      const ev = JSON.parse(input.event.raw);
      const d = toOcsf(input, { bodies: 'string' }) as any;
      expect(d.class_uid).toBe(6003);
      expect(d.category_uid).toBe(6);
      expect([1, 2, 3, 4, 99]).toContain(d.activity_id);
      expect(d.activity_id).toBe(ocsfActivity(ev.verb).id);
      expect(d.type_uid).toBe(600300 + d.activity_id);
      expect(Number.isInteger(d.time)).toBe(true);
      expect(d.time).toBe(Date.parse(ev.stageTimestamp ?? ev.timestamp));
      expect(d.severity_id).toBe(1);
      expect(typeof d.metadata.version).toBe('string');
      expect(typeof d.metadata.product.name).toBe('string');
      expect(typeof d.metadata.product.vendor_name).toBe('string');
      expect(typeof d.actor.user.name).toBe('string');
      expect(typeof d.api.operation).toBe('string');
      expect(typeof d.api.request.uid).toBe('string');
      expect(Object.keys(d.src_endpoint).length).toBeGreaterThan(0);
      if (ev.sourceIPs) expect(d.src_endpoint.ip).toBe(ev.sourceIPs[0]);
      if (ev.objectRef) {
        expect(Array.isArray(d.resources)).toBe(true);
        expect(typeof d.resources[0]).toBe('object');
      }
      if (ev.userAgent) expect(d.http_request.user_agent).toBe(ev.userAgent);
      if (ev.requestURI) expect(d.http_request.url.url_string).toBe(ev.requestURI);
      if (ev.responseStatus?.code) {
        expect(d.http_response.code).toBe(ev.responseStatus.code);
        expect(typeof d.status_id).toBe('number');
      }
      if (ev.requestObject) expect(typeof d.unmapped.requestObject).toBe('string');
    }
  });

  test('ocsf activity from the verb: create 1, read 2, update 3, delete 4, other 99', () => {
    expect(['create', 'get', 'list', 'watch', 'update', 'patch', 'delete', 'deletecollection', 'proxy', undefined].map((v) => ocsfActivity(v).id)).toEqual([1, 2, 2, 2, 3, 3, 4, 4, 99, 99]);
  });

  test('otel: log record with time from stageTimestamp, the event as body, audit attributes', () => {
    for (const input of inputs) {
      const ev = JSON.parse(input.event.raw);
      const r = toOtel(input);
      expect(r.body).toEqual({ string: input.event.raw });
      const a = Object.fromEntries(r.attributes.map(([k, v]) => [k, v]));
      expect(a['k8s.audit.audit_id']).toEqual({ string: ev.auditID });
      expect(a['event.name']).toEqual({ string: 'k8s.audit' });
      if (ev.objectRef?.namespace) expect(a['k8s.namespace.name']).toEqual({ string: ev.objectRef.namespace });
      expect(r.timeUnixNano / 1_000_000n).toBe(BigInt(Date.parse(ev.stageTimestamp ?? ev.timestamp)));
    }
  });

  test('raw: the SPEC §3 log, as renderLog writes it', () => {
    for (const input of inputs.slice(0, 5)) {
      expect(schemaDocument({ schema: 'raw', bodies: 'string' }, input.event, input.tags)).toEqual(JSON.parse(renderLog(input.event, undefined)));
    }
  });

  test('schemas are pure: the event is not changed and the same input gives the same document', () => {
    for (const input of inputs.slice(0, 10)) {
      const before = input.event.raw;
      expect(toEcs(input, { bodies: 'object' })).toEqual(toEcs(input, { bodies: 'object' }));
      expect(toOcsf(input, { bodies: 'string' })).toEqual(toOcsf(input, { bodies: 'string' }));
      expect(input.event.raw).toBe(before);
    }
  });
});

describe('__event_id__ and ?schema=', () => {
  test('the per-log marker wins; otherwise SHA-256 of {cluster_id}/{auditID}/{stage}', () => {
    const ev = { raw: '{"auditID":"a1","stage":"ResponseComplete"}', isObject: true, time: 1, timeNs: 0 };
    expect(eventIdOf(ev, { __cluster_id__: 'c9' })).toBe(auditEventId('c9', 'a1', 'ResponseComplete'));
    expect(auditEventId('c9', 'a1', 'ResponseComplete')).toMatch(/^[0-9a-f]{64}$/);
    expect(eventIdOf(ev, {})).not.toBe(eventIdOf(ev, { __cluster_id__: 'c9' }));
    expect(eventIdOf({ ...ev, markers: { __event_id__: 'given' } }, {})).toBe('given');
  });

  test('takeSchemaParams: takes schema and bodies out of the URL; unknown values are a coded error', () => {
    const u = new URL('http://h/x?schema=ocsf&bodies=object&keep=1');
    expect(takeSchemaParams(u)).toEqual({ schema: 'ocsf', bodies: 'object' });
    expect(u.search).toBe('?keep=1');
    try {
      takeSchemaParams(new URL('http://h/?schema=cef'));
      expect.unreachable();
    } catch (e) {
      expect((e as TailshipError).code).toBe(ErrorCodes.SINK_SCHEMA_INVALID);
    }
  });
});
