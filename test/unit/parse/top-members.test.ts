import { describe, expect, test } from 'vitest';
import { parseLine } from '../../../src/parse/parse-line.js';
import { TopLevel, isIndexed, topFields } from '../../../src/audit/json-top.js';
import { fixtureLines, realAuditLines } from '../audit/support.js';
import { computeEventId } from '../../../src/audit/event-id.js';
import { createRng, type Rng } from '../../helpers/audit-gen.js';

/** Every member of a text by the parser's table (just after parsing it) and by a walk of the text: must agree. */
function bothWays(line: string): { table: Array<[string, { start: number; end: number }]>; walk: Array<[string, { start: number; end: number }]>; indexed: boolean } {
  const ev = parseLine(line, false, true, 0);
  const top = topFields(ev.raw)!;
  const indexed = isIndexed(top);
  const table = [...top.all()];
  const walk = [...new TopLevel(line).all()];
  return { table, walk, indexed };
}

describe("the parser's member table (one walk per line for the audit stages)", () => {
  const cases = [
    ...realAuditLines().map((l) => l.line),
    ...fixtureLines('audit-redact/secrets.ndjson'),
    '{}',
    ' { "a" : 1 , "b":[1,{"c":"}"}] ,"d":{} , "e":[] ,"f":"x\\"y" } ',
    '{"dup":1,"x":true,"dup":2}',
    '{"n":-1.5e+3,"t":null,"f":false,"s":"\\u00e9"}',
  ];

  test.each(cases.map((c, i) => [i, c]))('line %i: same spans as a walk of the text, first occurrence kept', (_i, line) => {
    const { table, walk, indexed } = bothWays(line);
    expect(indexed).toBe(true);
    expect(table).toEqual(walk);
    // each lookup answers from the table too
    const top = topFields(line)!;
    for (const [k, span] of walk) expect(top.get(k)).toEqual(span);
    expect(top.get('no such key')).toBeUndefined();
  });

  test('event ids from the table are those from a walk of the text', () => {
    const lines = [...cases, '{"auditID":"a\\u0031","stage":"X"}', '{"auditID":"","stage":"X"}', '{"auditID":"id","auditID":"other"}', '{"stage":1,"auditID":"id"}'];
    for (const line of lines) {
      const ev = parseLine(line, false, true, 0);
      const fromTable = computeEventId(ev, 'c1', 's', 7);
      parseLine('{}', false, true, 0);
      expect(fromTable, line).toBe(computeEventId(ev, 'c1', 's', 7));
    }
  });

  test('a table from an older line is never used for another text: the lookup walks that text instead', () => {
    const a = '{"verb":"get","stage":"ResponseComplete"}';
    const b = '{"stage":"RequestReceived","verb":"list","x":1}';
    parseLine(a, false, true, 0);
    const topA = topFields(a)!;
    parseLine(b, false, true, 0); // the table now describes b
    expect(isIndexed(topA)).toBe(false);
    expect(topA.get('verb')).toEqual({ start: 8, end: 13 });
    expect(topFields(b)!.get('verb')).toEqual({ start: 34, end: 40 });
  });

  test('a line the scan rejects leaves no table behind', () => {
    parseLine('{"ok":1}', false, true, 0);
    parseLine('{"v\\u0065rb":"get"}', false, true, 0); // escaped top-level key: JSON.parse decides
    const top = topFields('{"v\\u0065rb":"get"}')!;
    expect(isIndexed(top)).toBe(false);
    expect(top.get('verb')).toEqual({ start: 13, end: 18 });
  });

  test('2,000 seeded random objects (nesting, spaces, escapes, duplicate keys): every accepted one has the spans of a walk', () => {
    const rng = createRng(42);
    // raw tabs and newlines between tokens are valid JSON, but the scan leaves such a line to JSON.parse: rare here
    const ws = (): string => (rng.next() < 0.01 ? '\n' : rng.pick(['', '', '', ' ', '  ']));
    const str = (): string => JSON.stringify(rng.pick(['a', '', 'x"y', 'back\\slash', 'é', '\u0001', '}{][,:', 'verb']));
    const value = (depth: number): string => {
      const k = rng.int(0, depth > 2 ? 3 : 5);
      if (k === 0) return str();
      if (k === 1) return rng.pick(['0', '-1.5e3', '12', 'true', 'false', 'null']);
      if (k === 2) return `${ws()}${rng.int(0, 1) ? str() : '7'}`;
      if (k === 3) return rng.pick(['{}', '[]', '[ ]', '{ }']);
      if (k === 4) return `[${Array.from({ length: rng.int(1, 3) }, () => `${ws()}${value(depth + 1)}${ws()}`).join(',')}]`;
      return object(rng, depth + 1);
    };
    const object = (r: Rng, depth: number): string => {
      const keys = ['kind', 'verb', 'stage', 'user', 'objectRef', 'requestObject', 'a', 'verb', 'stageTimestamp'];
      const n = r.int(depth === 0 ? 1 : 0, 6);
      return `{${Array.from({ length: n }, () => `${ws()}${JSON.stringify(r.pick(keys))}${ws()}:${ws()}${value(depth)}${ws()}`).join(',')}}`;
    };
    let accepted = 0;
    for (let i = 0; i < 2000; i++) {
      const line = `${ws()}${object(rng, 0)}${ws()}`;
      const ev = parseLine(line, false, true, 0);
      expect(ev.isObject, line).toBe(true);
      const top = topFields(line)!;
      if (!isIndexed(top)) continue; // the scan left it to JSON.parse: no table
      accepted++;
      expect([...top.all()], line).toEqual([...new TopLevel(line).all()]);
    }
    expect(accepted).toBeGreaterThan(1000);
  });
});
