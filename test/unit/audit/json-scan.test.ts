import { describe, expect, test } from 'vitest';
import { findKey, spanString } from '../../../src/audit/json-scan.js';
import { TopLevel, topFields } from '../../../src/audit/json-top.js';
import { tailStrings } from '../../../src/audit/json-tail.js';
import { fixtureLines, realAuditLines } from './support.js';

const TRICKY = [
  '{"a":"x\\"}","b":{"c":"}\\\\"},"stageTimestamp":"t1","requestReceivedTimestamp":"t0"}',
  '{"requestReceivedTimestamp":"t0","stageTimestamp":"t\\u0031","annotations":{"k":"v\\\\","x":["]",{"y":"\\""}]}}',
  '{"stageTimestamp":"early","n":-1.5e3,"t":true,"z":null,"stageTimestamp":"late"}',
  '{ "stageTimestamp" : "spaced" , "requestReceivedTimestamp" :\t"r" }',
  '{"x":[1,2,{"stageTimestamp":"nested"}],"e":{}}',
  '{}',
];

describe('json-scan', () => {
  test('TopLevel.get and findKey agree with JSON.parse on every key of real and built events', () => {
    const lines = [...realAuditLines().map((l) => l.line), ...fixtureLines('audit-redact/secrets.ndjson'), ...fixtureLines('audit-redact/bad-shapes.ndjson'), ...TRICKY.slice(0, 2), TRICKY[3]!, TRICKY[4]!];
    for (const line of lines) {
      let obj: Record<string, unknown>;
      try {
        obj = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) continue;
      const top = new TopLevel(line);
      for (const [k, v] of Object.entries(obj)) {
        const span = top.get(k)!;
        expect(JSON.parse(line.slice(span.start, span.end)), k).toEqual(v);
        expect(JSON.parse(line.slice(...((s) => [s.start, s.end])(findKey(line, 0, k)!))), k).toEqual(v);
      }
      expect(top.get('no-such-key')).toBeUndefined();
      expect([...top.all().keys()]).toEqual(Object.keys(obj));
    }
  });

  test('tailStrings reads the last keys from the end, as JSON.parse (last wins), through escapes and nesting', () => {
    const keys = ['requestReceivedTimestamp', 'stageTimestamp'] as const;
    expect(tailStrings(TRICKY[0]!, keys)).toEqual(['t0', 't1']);
    expect(tailStrings(TRICKY[1]!, keys)).toEqual(['t0', 't1']);
    expect(tailStrings(TRICKY[2]!, keys)).toEqual([undefined, 'late']);
    expect(tailStrings(TRICKY[3]!, keys)).toEqual(['r', 'spaced']);
    expect(tailStrings(TRICKY[4]!, keys)).toEqual([undefined, undefined]);
    expect(tailStrings(TRICKY[5]!, keys)).toEqual([undefined, undefined]);
    for (const line of fixtureLines('audit-redact/secrets.ndjson')) {
      const o = JSON.parse(line) as Record<string, string>;
      expect(tailStrings(line, keys)).toEqual([o.requestReceivedTimestamp, o.stageTimestamp]);
    }
  });

  test('topFields keeps the last scan for the next stage; escaped keys are decoded', () => {
    const line = '{"audit\\u0049D":"x","stage":"s"}';
    expect(topFields(line)).toBe(topFields(line));
    expect(spanString(line, topFields(line)!.get('auditID'))).toBe('x');
    expect(topFields('[1]')).toBeUndefined();
  });
});
