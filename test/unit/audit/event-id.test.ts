import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { auditEventId, eventIdOf, lineEventId } from '../../../src/audit/event-id.js';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('__event_id__ (SPEC §10)', () => {
  it('is the hex SHA-256 of {cluster_id}/{auditID}/{stage}, cluster id empty when unknown', () => {
    expect(auditEventId('c1', 'a-1', 'ResponseComplete')).toBe(sha('c1/a-1/ResponseComplete'));
    expect(auditEventId('', 'a-1', 'RequestReceived')).toBe(sha('/a-1/RequestReceived'));
    expect(lineEventId('dev:ino:fp', 1234)).toBe(sha('dev:ino:fp/1234'));
  });

  it('takes the marker when the identity stage set one, else computes it from the event', () => {
    const raw = JSON.stringify({ auditID: 'x', stage: 'ResponseStarted' });
    expect(eventIdOf({ raw, isObject: true, time: 1, timeNs: 0, markers: { __event_id__: 'abc' } }, { clusterId: 'c', stream: 's', offset: 0 })).toBe('abc');
    expect(eventIdOf({ raw, isObject: true, time: 1, timeNs: 0 }, { clusterId: 'c', stream: 's', offset: 0 })).toBe(sha('c/x/ResponseStarted'));
    expect(eventIdOf({ raw: 'plain', isObject: false, time: 1, timeNs: 0 }, { clusterId: 'c', stream: 's', offset: 7 })).toBe(sha('s/7'));
    expect(eventIdOf({ raw: '{"auditID":""}', isObject: true, time: 1, timeNs: 0 }, { clusterId: '', stream: 's', offset: 9 })).toBe(sha('s/9'));
  });
});
