import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { clusterIdOf, createIdentityStage, eventIdOf } from '../../../src/audit/identity.js';
import { ctxOf, eventOf, realAuditLines, single } from './support.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const ACK = 'c0123456789abcdef0123456789abcdef';

describe('clusterIdOf', () => {
  test('the ACK key audit-{cluster_id}; TAILSHIP_CLUSTER_ID for every input instead', () => {
    expect(ACK).toHaveLength(33);
    expect(clusterIdOf(`audit-${ACK}`, {})).toBe(ACK);
    expect(clusterIdOf('audit-webhook', {})).toBeUndefined();
    expect(clusterIdOf('audit', {})).toBeUndefined();
    expect(clusterIdOf(`audit-${ACK}`, { TAILSHIP_CLUSTER_ID: 'prod-eu-1' })).toBe('prod-eu-1');
    expect(clusterIdOf('anything', { TAILSHIP_CLUSTER_ID: 'prod-eu-1' })).toBe('prod-eu-1');
    expect(clusterIdOf('anything', { TAILSHIP_CLUSTER_ID: '  ' })).toBeUndefined();
  });
});

describe('__event_id__', () => {
  test('hex SHA-256 of {cluster_id}/{auditID}/{stage} on every real event, as a per-log marker', () => {
    const stage = createIdentityStage(ACK);
    for (const { name, line } of realAuditLines()) {
      const input = eventOf(line);
      const out = single(stage(input, ctxOf()));
      const ev = JSON.parse(line) as { auditID?: string; stage?: string };
      if (!input.isObject || !ev.auditID) continue;
      expect(out.markers?.__event_id__, name).toBe(sha(`${ACK}/${ev.auditID}/${ev.stage ?? ''}`));
      expect(out.raw).toBe(input.raw);
      expect(input.markers?.__event_id__).toBeUndefined(); // never mutates its argument
    }
  });

  test('the same across restarts and agents; different per stage; empty cluster id when unknown', () => {
    const line = '{"kind":"Event","auditID":"abc","stage":"ResponseComplete","verb":"get"}';
    const a = eventIdOf(eventOf(line), '', 's1', 0);
    expect(a).toBe(sha('/abc/ResponseComplete'));
    expect(eventIdOf(eventOf(line), '', 'other-stream', 999)).toBe(a);
    expect(eventIdOf(eventOf(line.replace('ResponseComplete', 'RequestReceived')), '', 's1', 0)).not.toBe(a);
  });

  test('a line without auditID: SHA-256 of {stream}/{offset}', () => {
    const stage = createIdentityStage(undefined);
    const text = { raw: 'plain text', isObject: false, time: 1, timeNs: 0 };
    expect(single(stage(text, ctxOf({ stream: 'dev-ino-fp', offset: 4096 }))).markers).toEqual({ __event_id__: sha('dev-ino-fp/4096') });
    expect(single(stage(eventOf('{"kind":0}'), ctxOf({ stream: 'x', offset: 7 }))).markers?.__event_id__).toBe(sha('x/7'));
  });

  test('keys with escapes and nested auditIDs: only the top-level auditID counts', () => {
    const line = '{"requestObject":{"auditID":"nested","stage":"x"},"audit\\u0049D":"top","stage":"ResponseComplete"}';
    expect(eventIdOf(eventOf(line), 'c', 's', 0)).toBe(sha('c/top/ResponseComplete'));
    const escapedValue = '{"auditID":"a\\/b","stage":"Response\\u0043omplete"}';
    expect(eventIdOf(eventOf(escapedValue), 'c', 's', 0)).toBe(sha('c/a/b/ResponseComplete'));
  });

  test('the __cluster_id__ tag of the context wins; other markers are kept', () => {
    const stage = createIdentityStage('from-key');
    const ev = { ...eventOf('{"auditID":"i","stage":"s"}'), markers: { __trimmed__: 'responseObject' } };
    const out = single(stage(ev, ctxOf({ tags: { __cluster_id__: 'from-tag' } })));
    expect(out.markers).toEqual({ __trimmed__: 'responseObject', __event_id__: sha('from-tag/i/s') });
  });
});
