import { describe, expect, it } from 'vitest';
import {
  cutLog,
  encodeLogGroup,
  logFieldSize,
  toSlsLog,
  truncateUtf8,
  type GroupMeta,
} from '../../../src/deliver/sinks/sls/log-group.js';
import type { ShipEvent } from '../../../src/parse/ship-event.js';
import { decodeLogGroup, expectedContents, shipEventsFromFixture } from '../../helpers/fake-sls.js';

const META: GroupMeta = {
  source: '10.0.0.7',
  tags: [
    ['audit', 'apiserver'],
    ['__hostname__', 'node-1'],
    ['__path__', '/var/log/kubernetes/kubernetes.audit'],
  ],
};

function pairs(contents: { Key: string; Value: string }[]): [string, string][] {
  return contents.map((c) => [c.Key, c.Value]);
}

describe('LogGroup writer', () => {
  it('reproduces the signature vector body (one log, empty Topic omitted, Source)', () => {
    const log = toSlsLog({ raw: '{"TestKey":"TestContent"}', isObject: true, time: 1405409656, timeNs: 0 });
    const buf = encodeLogGroup([log], 0, 1, { source: '10.230.201.117', tags: [] });
    // The research vector (a LogGroup inside a LogGroupList) has no Time_ns and an empty Topic; ours always has
    // Time_ns and omits an empty Topic: compare the fields through the decoder and the Time/Contents bytes.
    expect(buf.subarray(0, 2).toString('hex')).toBe('0a23');
    expect(buf.subarray(2, 2 + 30).toString('hex')).toBe(
      '08f8b2939e0512160a07546573744b6579120b54657374436f6e74656e74',
    );
    const g = decodeLogGroup(buf);
    expect(g.Source).toBe('10.230.201.117');
    expect(g.Logs).toEqual([{ Time: 1405409656, Time_ns: 0, Contents: [{ Key: 'TestKey', Value: 'TestContent' }] }]);
  });

  it('encodes every event of real audit logs so that protobufjs decodes the same contents, time and tags', () => {
    const events = [
      ...shipEventsFromFixture('apisnoop-example-user-agent.log'),
      ...shipEventsFromFixture('cks-prep-p.auster.ndjson'),
      ...shipEventsFromFixture('falco-k8s_audit.ndjson'),
    ];
    expect(events.length).toBeGreaterThan(80);
    const logs = events.map(toSlsLog);
    const buf = encodeLogGroup(logs, 0, logs.length, { ...META, topic: 'audit' });
    const g = decodeLogGroup(buf);
    expect(g.Topic).toBe('audit');
    expect(g.Source).toBe('10.0.0.7');
    expect(pairs(g.LogTags)).toEqual(META.tags);
    expect(g.Logs).toHaveLength(events.length);
    g.Logs.forEach((log, i) => {
      expect(log.Time).toBe(events[i]!.time);
      expect(log.Time_ns).toBe(events[i]!.timeNs);
      expect(pairs(log.Contents)).toEqual(expectedContents(events[i]!));
    });
    // Nested values are compact JSON text the audit dashboards parse (user.username, objectRef.resource…).
    const first = g.Logs[8]!;
    const user = first.Contents.find((c) => c.Key === 'user')!;
    expect(JSON.parse(user.Value)).toHaveProperty('username');
    // `{"kind": 0}` (a fuzz line from falco) keeps its number as text.
    expect(g.Logs.some((l) => l.Contents.length === 1 && l.Contents[0]!.Key === 'kind' && l.Contents[0]!.Value === '0')).toBe(true);
  });

  it('handles multi-byte UTF-8, null, booleans, a non-object line and reserved keys', () => {
    const events: ShipEvent[] = [
      {
        raw: '{"msg":"héllo 世界 🎉","n":null,"b":true,"f":1.5,"a":[1,"x"],"__time__":5,"__tag__":{"x":"y"}}',
        isObject: true,
        time: 4294967295,
        timeNs: 999_999_999,
      },
      { raw: 'plain text line', isObject: false, time: 0, timeNs: 0, markers: { __parse_error__: 'x' } },
      { raw: '{}', isObject: true, time: 1, timeNs: 1 },
    ];
    const logs = events.map(toSlsLog);
    const g = decodeLogGroup(encodeLogGroup(logs, 0, 3, { tags: [] }));
    expect(g.Logs[0]).toEqual({
      Time: 4294967295,
      Time_ns: 999_999_999,
      Contents: [
        { Key: 'msg', Value: 'héllo 世界 🎉' },
        { Key: 'n', Value: '' },
        { Key: 'b', Value: 'true' },
        { Key: 'f', Value: '1.5' },
        { Key: 'a', Value: '[1,"x"]' },
      ],
    });
    expect(pairs(g.Logs[1]!.Contents)).toEqual([['content', 'plain text line']]);
    expect(logs[1]!.markers).toEqual({ __parse_error__: 'x' });
    expect(pairs(g.Logs[2]!.Contents)).toEqual([['content', '{}']]);
  });

  it('marks an event that claims to be an object but is not, and ships its line', () => {
    const log = toSlsLog({ raw: '[1,2]', isObject: true, time: 1, timeNs: 0 });
    expect(log.kv).toEqual(['content', '[1,2]']);
    expect(log.markers).toEqual({ __parse_error__: 'not a JSON object' });
  });

  it('encodes a range of logs only, with sizes that match the bytes written', () => {
    const logs = shipEventsFromFixture('falco-k8s_audit.ndjson').map(toSlsLog);
    const buf = encodeLogGroup(logs, 3, 7, { tags: [] });
    expect(buf.length).toBe(logs.slice(3, 7).reduce((n, l) => n + logFieldSize(l), 0));
    expect(decodeLogGroup(buf).Logs).toHaveLength(4);
  });

  it('cuts a log over a size to fit, largest value first, on a character boundary, and marks it', () => {
    const big = 'é'.repeat(300_000); // 600 000 bytes
    const log = toSlsLog({
      raw: JSON.stringify({ kind: 'Event', requestObject: { data: big }, verb: 'create' }),
      isObject: true,
      time: 10,
      timeNs: 0,
    });
    expect(cutLog(log, 1_000_000)).toBe(false);
    expect(cutLog(log, 100_000)).toBe(true);
    expect(log.size).toBeLessThanOrEqual(100_000);
    expect(log.size).toBeGreaterThan(99_000);
    expect(log.markers).toEqual({ __truncated__: 'true' });
    const g = decodeLogGroup(encodeLogGroup([log], 0, 1, { tags: [] }));
    const contents = Object.fromEntries(pairs(g.Logs[0]!.Contents));
    expect(contents.kind).toBe('Event');
    expect(contents.verb).toBe('create');
    expect(contents.requestObject!.startsWith('{"data":"éé')).toBe(true);
    expect(contents.requestObject).not.toContain('\ufffd');
  });

  it('cuts even a log made only of keys (terminates)', () => {
    const obj: Record<string, string> = {};
    for (let i = 0; i < 1000; i++) obj[`key-${i}-${'k'.repeat(50)}`] = '';
    const log = toSlsLog({ raw: JSON.stringify(obj), isObject: true, time: 1, timeNs: 0 });
    expect(cutLog(log, 5000)).toBe(true);
    expect(log.size).toBeLessThanOrEqual(5000);
  });

  it('truncateUtf8 never splits a character', () => {
    expect(truncateUtf8('aé', 2)).toBe('a');
    expect(truncateUtf8('aé', 3)).toBe('aé');
    expect(truncateUtf8('🎉🎉', 5)).toBe('🎉');
  });
});
