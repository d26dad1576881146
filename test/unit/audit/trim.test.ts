import { createHash } from 'node:crypto';
import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { topFields } from '../../../src/audit/json-top.js';
import { createTrimStage, trimEvent } from '../../../src/audit/trim.js';
import { bigEvent, ctxOf, eventOf, realAuditLines, single } from './support.js';

const M = 1024 * 1024;

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('--max-event-bytes', () => {
  test('a 20 MB RequestResponse event trimmed to 1M: valid JSON under the limit, marker with the body size and hash', () => {
    const line = bigEvent(20);
    expect(line.length).toBeGreaterThan(20_000_000);
    const input = eventOf(line);
    const out = single(trimEvent(input, M));
    expect(Buffer.byteLength(out.raw)).toBeLessThanOrEqual(M);
    const ev = JSON.parse(out.raw) as Record<string, unknown>;
    const orig = JSON.parse(line) as Record<string, { metadata: Record<string, unknown> }>;
    // what was replaced: the larger body, managedFields stripped first (its compact JSON as it was then)
    const { managedFields: _m, ...meta } = orig.responseObject!.metadata;
    const stripped = JSON.stringify({ ...orig.responseObject, metadata: meta });
    expect(ev.responseObject).toEqual({ __trimmed__: { bytes: Buffer.byteLength(stripped), sha256: sha(stripped) } });
    // the small body keeps everything but its managedFields
    const { managedFields: _r, ...reqMeta } = orig.requestObject!.metadata;
    expect(ev.requestObject).toEqual({ ...orig.requestObject, metadata: reqMeta });
    expect(out.markers).toEqual({ __trimmed__: 'managedFields,responseObject' });
    // every other top-level value keeps its bytes
    const tb = topFields(line)!.all();
    const ta = topFields(out.raw)!.all();
    for (const [k, s] of tb) if (k !== 'requestObject' && k !== 'responseObject') expect(out.raw.slice(ta.get(k)!.start, ta.get(k)!.end), k).toBe(line.slice(s.start, s.end));
    expect(out.time).toBe(input.time);
  });

  test('managedFields alone when that is enough; the bodies stay', () => {
    const line = bigEvent(0.2);
    const size = Buffer.byteLength(line);
    const out = single(trimEvent(eventOf(line), size - 1000));
    expect(out.markers).toEqual({ __trimmed__: 'managedFields' });
    const ev = JSON.parse(out.raw) as { responseObject: { metadata: Record<string, unknown>; data: object } };
    expect(ev.responseObject.metadata.managedFields).toBeUndefined();
    expect(Object.keys(ev.responseObject.data).length).toBeGreaterThan(50);
  });

  test('both bodies when one is not enough; an event that fits or cannot be trimmed is returned as is', () => {
    const line = bigEvent(0.3, false);
    const out = single(trimEvent(eventOf(line), 600));
    expect(out.markers?.__trimmed__).toBe('responseObject,requestObject');
    const ev = JSON.parse(out.raw) as Record<string, { __trimmed__?: unknown }>;
    expect(ev.requestObject!.__trimmed__).toBeDefined();
    expect(Buffer.byteLength(out.raw)).toBeGreaterThan(600); // nothing left to trim: shipped as it is now
    const fits = eventOf(line);
    expect(trimEvent(fits, Buffer.byteLength(line))).toBe(fits);
    const noBodies = eventOf(realAuditLines().find((l) => l.name === 'apisnoop')!.line);
    expect(trimEvent(noBodies, 100)).toBe(noBodies);
  });

  test('multi-byte characters count as their UTF-8 bytes', () => {
    const line = JSON.stringify({ kind: 'Event', auditID: 'u', requestObject: { note: '世'.repeat(400) } });
    expect(line.length).toBeLessThan(1000);
    expect(Buffer.byteLength(line)).toBeGreaterThan(1000);
    expect(single(trimEvent(eventOf(line), 1000)).markers).toEqual({ __trimmed__: 'requestObject' });
  });

  test('a 50 MB event is trimmed without a crash; non-JSON lines are left alone', () => {
    const line = bigEvent(50);
    const out = single(trimEvent(eventOf(line), M));
    expect(Buffer.byteLength(out.raw)).toBeLessThanOrEqual(M);
    expect(() => JSON.parse(out.raw)).not.toThrow();
    const cut = { raw: line.slice(0, 5000), isObject: false, time: 1, timeNs: 0, markers: { __truncated__: 'true' } };
    expect(trimEvent(cut, 1000)).toBe(cut);
  });

  test('the stage counts tailship_events_trimmed_total{input}; 0 is off', async () => {
    expect(createTrimStage(0, { registry: new Registry() })).toBeUndefined();
    const registry = new Registry();
    const stage = createTrimStage(2000, { registry })!;
    stage(eventOf(bigEvent(0.01)), ctxOf({ inputKey: 'in-1' }));
    stage(eventOf(realAuditLines()[0]!.line), ctxOf({ inputKey: 'in-1' }));
    expect(await registry.metrics()).toContain('tailship_events_trimmed_total{input="in-1"} 1');
  });
});
