import { describe, expect, test } from 'vitest';
import { renderLog, tagObjectJson } from '../../../src/deliver/render.js';
import { eventTime, parseLine } from '../../../src/parse/parse-line.js';

describe('parseLine', () => {
  test('takes stageTimestamp, else requestReceivedTimestamp, with sub-second digits', () => {
    const e = parseLine('{"stageTimestamp":"2019-05-08T12:46:52.812735Z","requestReceivedTimestamp":"2019-05-08T12:46:50.000000Z"}', false, true, 0);
    expect(e).toMatchObject({ isObject: true, time: 1557319612, timeNs: 812735000 });
    expect(parseLine('{"requestReceivedTimestamp":"2019-05-08T12:46:50.5Z"}', false, true, 0)).toMatchObject({ time: 1557319610, timeNs: 500000000 });
    expect(parseLine('{"a":1}', false, true, 1_700_000_000_250)).toMatchObject({ time: 1_700_000_000, timeNs: 250_000_000 });
  });

  test.each([
    ['{"a":', /invalid JSON/],
    ['[1,2]', /not a JSON object \(array\)/],
    ['null', /null/],
    ['"s"', /string/],
  ])('a JSON input line %s that is not one object is kept with __parse_error__', (line, reason) => {
    const e = parseLine(line, false, true, 0);
    expect(e.isObject).toBe(false);
    expect(e.raw).toBe(line);
    expect(e.markers?.__parse_error__).toMatch(reason);
  });

  test('non-JSON inputs and truncated lines ship as content', () => {
    expect(parseLine('{"a":1}', false, false, 0).isObject).toBe(false);
    expect(parseLine('{"a":1', true, true, 0).markers).toEqual({ __truncated__: 'true' });
  });

  test('eventTime rejects garbage', () => {
    expect(eventTime('yesterday')).toBeUndefined();
    expect(eventTime(5)).toBeUndefined();
  });
});

describe('renderLog', () => {
  const tags = tagObjectJson({ audit: 'apiserver', __path__: '/p' }, undefined);
  test('appends __time__ and __tag__ to the event object, keeping every key as it was', () => {
    const raw = '{"kind":"Event","user":{"username":"u"},"x":[1,2]} ';
    const out = JSON.parse(renderLog({ raw, isObject: true, time: 5, timeNs: 0 }, tags));
    expect(out).toEqual({ kind: 'Event', user: { username: 'u' }, x: [1, 2], __time__: 5, __tag__: { audit: 'apiserver', __path__: '/p' } });
  });
  test('empty object, content lines, own reserved keys replaced, markers merged', () => {
    expect(JSON.parse(renderLog({ raw: '{ }', isObject: true, time: 1, timeNs: 0 }, undefined))).toEqual({ __time__: 1 });
    expect(JSON.parse(renderLog({ raw: '  {}', isObject: true, time: 1, timeNs: 0 }, undefined))).toEqual({ __time__: 1 });
    expect(JSON.parse(renderLog({ raw: ' { \t} ', isObject: true, time: 1, timeNs: 0 }, '{"a":"b"}'))).toEqual({ __time__: 1, __tag__: { a: 'b' } });
    expect(JSON.parse(renderLog({ raw: 'a "q"', isObject: false, time: 1, timeNs: 0 }, undefined))).toEqual({ content: 'a "q"', __time__: 1 });
    expect(JSON.parse(renderLog({ raw: '{"__time__":9,"a":1}', isObject: true, time: 2, timeNs: 0 }, undefined))).toEqual({ a: 1, __time__: 2 });
    const m = tagObjectJson({ a: 'b' }, { __parse_error__: 'bad' });
    expect(JSON.parse(renderLog({ raw: 'x', isObject: false, time: 1, timeNs: 0 }, m)).__tag__).toEqual({ a: 'b', __parse_error__: 'bad' });
  });
});
