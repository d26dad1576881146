import fs from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parseEventList } from '../../../../src/inputs/webhook/eventlist.js';
import { eventList } from './post.js';

const DOCS = fs.readFileSync(new URL('../../../fixtures/eventlists/k8s-docs-1.8-webhook-eventlist.v1beta1.json', import.meta.url));
const ok = (b: Buffer | string) => {
  const r = parseEventList(Buffer.from(b));
  if ('error' in r) throw new Error(r.reason);
  return r.items;
};
const code = (b: string) => {
  const r = parseEventList(Buffer.from(b));
  return 'error' in r ? r.error : 'ok';
};

describe('EventList validation', () => {
  test('the real (pretty-printed, v1beta1) body: one compact line per event', () => {
    const items = ok(DOCS);
    expect(items).toHaveLength(1);
    const line = items[0]!.line.toString();
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual(JSON.parse(DOCS.toString()).items[0]);
    expect(items[0]!.key).toBe('24f30caf-d7d4-45d5-b7bd-e7af300d7886\u0000ResponseComplete');
  });

  test('a compact body: the bytes of each item as sent', () => {
    const { body } = eventList('c', 50);
    const items = ok(body);
    expect(items).toHaveLength(50);
    const parsed = JSON.parse(body.toString()) as { items: unknown[] };
    items.forEach((it, i) => expect(it.line.toString()).toBe(JSON.stringify(parsed.items[i])));
    expect(ok('{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[]}')).toEqual([]);
    // nested brackets and escaped quotes inside strings do not confuse the scan
    const tricky = '{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"auditID":"a\\"]}","stage":"S","level":"L","verb":"v","requestURI":"/[{"}]}';
    expect(JSON.parse(ok(tricky)[0]!.line.toString()).auditID).toBe('a"]}');
  });

  test('bad input: not JSON, JSON not an EventList, an item not an Event → a code, nothing kept', () => {
    expect(code('')).toBe('TAILSHIP_E_WEBHOOK_NOT_JSON');
    expect(code('not json')).toBe('TAILSHIP_E_WEBHOOK_NOT_JSON');
    expect(code('{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"a":1}')).toBe('TAILSHIP_E_WEBHOOK_NOT_JSON');
    expect(code('{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[]} trailing')).toBe('TAILSHIP_E_WEBHOOK_NOT_JSON');
    expect(code('[1,2]')).toBe('TAILSHIP_E_WEBHOOK_NOT_EVENTLIST');
    expect(code('{"kind":"PodList","apiVersion":"v1","items":[]}')).toBe('TAILSHIP_E_WEBHOOK_NOT_EVENTLIST');
    expect(code('{"kind":"EventList","apiVersion":"audit.k8s.io/v2","items":[]}')).toBe('TAILSHIP_E_WEBHOOK_NOT_EVENTLIST');
    expect(code('{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":{}}')).toBe('TAILSHIP_E_WEBHOOK_NOT_EVENTLIST');
    const { body } = eventList('b', 3);
    const bad = body.toString().replace('"auditID":"b-2",', '');
    const r = parseEventList(Buffer.from(bad));
    expect(r).toEqual({ error: 'TAILSHIP_E_WEBHOOK_BAD_EVENT', reason: expect.stringContaining('items[2]') });
    expect(code('{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[42]}')).toBe('TAILSHIP_E_WEBHOOK_BAD_EVENT');
    expect(code('{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"kind":"Pod","auditID":"a","stage":"S","level":"L","verb":"v","requestURI":"/"}]}')).toBe('TAILSHIP_E_WEBHOOK_BAD_EVENT');
  });

  test('a large list is scanned in linear time', () => {
    const { body } = eventList('big', 20_000, 1000); // ~25 MB
    const t0 = Date.now();
    expect(ok(body)).toHaveLength(20_000);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
