import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jsonContents, parseContents, scanContents } from '../../../src/deliver/sinks/sls/contents.js';
import { FIXTURES } from '../../helpers/fake-sls.js';

const realLines = ['apisnoop-example-user-agent.log', 'cks-prep-p.auster.ndjson', 'falco-k8s_audit.ndjson']
  .flatMap((f) => readFileSync(`${FIXTURES}${f}`, 'utf8').split('\n'))
  .map((l) => l.replace(/\r$/, ''))
  .filter((l) => l.length > 0);

/** Same keys in the same order, values equal as JSON (or equal strings for string values). */
function sameMeaning(a: string[], b: string[]): void {
  expect(a.filter((_, i) => i % 2 === 0)).toEqual(b.filter((_, i) => i % 2 === 0));
  for (let i = 1; i < a.length; i += 2) {
    if (a[i] === b[i]) continue;
    expect(JSON.parse(a[i]!)).toEqual(JSON.parse(b[i]!));
  }
}

describe('JSON line → SLS contents', () => {
  it('the scanner gives exactly what parse + stringify gives on every real audit event', () => {
    let n = 0;
    for (const line of realLines) {
      const parsed = parseContents(line);
      if (!parsed) continue;
      expect(scanContents(line)).toEqual(parsed);
      n++;
    }
    expect(n).toBeGreaterThan(80);
  });

  it.each([
    ['escapes in keys and values', String.raw`{"a\"b":"x\ny\u00e9\\","c\\":"\"q\""}`],
    ['brackets and quotes inside nested strings', String.raw`{"o":{"s":"}]{[\"","t":["]","\\"]},"n":1}`],
    ['literals and numbers', '{"t":true,"f":false,"z":null,"i":-12,"e":1.5e-7,"big":12345678901234567890}'],
    ['whitespace around everything', ' {\t"a" : "b" ,\n "o" : { "x" : [ 1 , 2 ] } , "n" : 3 }\r\n'],
    ['unicode', '{"msg":"héllo 世界 🎉","o":{"k":"日本"}}'],
    ['empty object and array values', '{"o":{},"a":[],"s":""}'],
    ['reserved keys dropped', '{"__time__":1,"a":"x","__tag__":{"k":"v"}}'],
    ['duplicate keys: last value, first place', '{"a":"1","b":"2","a":{"x":3}}'],
    ['go html escapes', String.raw`{"u":"a\u0026b","o":{"u":"\u003cx\u003e"}}`],
  ])('%s: same meaning as JSON.parse', (_name, line) => {
    const scanned = scanContents(line);
    const parsed = parseContents(line)!;
    sameMeaning(scanned, parsed);
    // Nested values are compact JSON text: no whitespace outside their strings.
    for (let i = 1; i < scanned.length; i += 2) {
      if (/^[[{]/.test(scanned[i]!)) expect(scanned[i]!.replace(/"(?:[^"\\]|\\.)*"/g, '""')).not.toMatch(/\s/);
    }
  });

  it('keeps the exact digits of numbers JSON.parse would round', () => {
    expect(scanContents('{"big":12345678901234567890,"o":{"n":9007199254740993}}')).toEqual([
      'big',
      '12345678901234567890',
      'o',
      '{"n":9007199254740993}',
    ]);
  });

  it('re-serialises a nested value that holds whitespace, compactly', () => {
    expect(scanContents('{"o": { "a" : [1, 2], "s": "x y" }}')).toEqual(['o', '{"a":[1,2],"s":"x y"}']);
  });

  it('finds duplicates among many keys in linear time', () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `"k${i}":${i}`);
    const line = `{${keys.join(',')},"k7":"last"}`;
    const kv = scanContents(line);
    expect(kv.length).toBe(10_000);
    expect(kv[15]).toBe('last');
  });

  it.each(['[1,2]', '"x"', '{"a":1', '{"a" 1}', '{"a":1,}', '{"a":1} x', '', '{a:1}', '{"a":}'])(
    'the scanner refuses %j, and jsonContents answers as JSON.parse does',
    (line) => {
      expect(() => scanContents(line)).toThrow(SyntaxError);
      expect(jsonContents(line)).toEqual(parseContents(line));
    },
  );

  it('jsonContents returns undefined for what is not a JSON object', () => {
    expect(jsonContents('[1]')).toBeUndefined();
    expect(jsonContents('not json')).toBeUndefined();
    expect(jsonContents('{"a":"b"}')).toEqual(['a', 'b']);
  });
});
