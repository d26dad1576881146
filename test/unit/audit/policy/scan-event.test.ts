// The targeted scan must read exactly what JSON.parse reads (escapes, duplicates, whitespace, odd types), and the
// splicing body removal must ship the same JSON value as the parse + delete + stringify path.
import fs from 'node:fs';
import { describe, expect, test } from 'vitest';
import { applyPolicy } from '../../../../src/audit/policy/apply.js';
import { parseLine } from '../../../../src/parse/parse-line.js';
import { compilePolicy } from '../../../../src/audit/policy/evaluate.js';
import { parsePolicy } from '../../../../src/audit/policy/load-policy.js';
import { attributesOf, scanEvent } from '../../../../src/audit/policy/scan-event.js';
import { createRng } from '../../../helpers/audit-gen.js';
import { REAL_LOGS } from './real-logs.js';
import { refEvaluate, type RefPolicy } from './reference-policy.js';

function viaParse(raw: string) {
  const a = attributesOf(JSON.parse(raw) as Record<string, unknown>);
  return { ...a.attrs, groups: [...a.attrs.groups], stage: a.stage, level: a.level, auditID: a.auditID };
}
function viaScan(raw: string) {
  const s = scanEvent(raw);
  if (!s) return undefined;
  return { ...s.attrs, groups: [...s.attrs.groups], stage: s.stage, level: s.level, auditID: s.auditID };
}

const base = {
  kind: 'Event',
  apiVersion: 'audit.k8s.io/v1',
  level: 'RequestResponse',
  auditID: 'a-1',
  stage: 'ResponseComplete',
  requestURI: '/api/v1/namespaces/default/pods/web-0?timeout=5s',
  verb: 'get',
  user: { username: 'tim', groups: ['humans', 'system:authenticated'], extra: { a: ['x'] } },
  objectRef: { resource: 'pods', namespace: 'default', name: 'web-0', apiVersion: 'v1' },
  requestObject: { kind: 'Pod', metadata: { name: 'web-0', managedFields: [{ manager: 'kubectl' }] } },
  responseObject: { kind: 'Pod', metadata: { name: 'web-0', managedFields: [{ manager: 'kubectl' }] }, status: { phase: 'Running' } },
};
const j = (o: unknown) => JSON.stringify(o);

describe('scanEvent reads what JSON.parse reads', () => {
  const cases: Array<[string, string]> = [
    ['a compact event', j(base)],
    ['pretty-printed (whitespace and newlines between tokens)', JSON.stringify(base, null, 2)],
    ['tabs and CRs between tokens', JSON.stringify(base, null, '\t').replace(/\n/g, '\r\n').replace(/": /g, '"\t :\t ')],
    ['escaped values', j({ ...base, verb: 'g\\u0065t', user: { username: 'tim\\"o\\\\', groups: ['a\\u00e9', 'b'] } }).replace(/\\\\u/g, '\\u')],
    ['a value full of escaped quotes and backslashes', j({ ...base, requestURI: '/x?q="\\"\\\\"', objectRef: { ...base.objectRef, name: 'a\\\\' } })],
    ['duplicate keys: the last wins', `{"verb":"get","verb":"list","user":{"username":"a"},"user":{"username":"b","groups":["g"]},"objectRef":{"resource":"pods"},"objectRef":null}`],
    ['non-string values are empty', j({ ...base, verb: 7, stage: null, user: { username: ['x'], groups: ['a', 1, null, { b: 2 }, 'c'] }, objectRef: { resource: {}, name: true } })],
    ['user that is not an object', j({ ...base, user: 'tim' })],
    ['user that is an array', j({ ...base, user: [{ username: 'tim' }] })],
    ['objectRef that is an array is not a resource request', j({ ...base, objectRef: [] })],
    ['empty objectRef is a resource request', j({ ...base, objectRef: {} })],
    ['no objectRef: non-resource request, path without the query', j({ ...base, objectRef: undefined, requestURI: '/healthz?verbose=1' })],
    ['subresource and apiGroup', j({ ...base, objectRef: { resource: 'deployments', subresource: 'scale', apiGroup: 'apps', namespace: 'x', name: 'd' } })],
    ['keys inside bodies that look like top-level keys are not read', j({ requestObject: { verb: 'delete', user: { username: 'evil' }, stage: 'Panic' }, verb: 'get' })],
    ['strings with braces and brackets', j({ ...base, requestObject: { data: { a: '}{][,:"' } } })],
    ['numbers, booleans, nested arrays', j({ ...base, annotations: { a: 1.5e3, b: [true, false, null, [-0.1, [{}]]] } })],
    ['an empty object', '{}'],
    ['unicode outside the BMP', j({ ...base, user: { username: 'ü😀', groups: ['😀'] } })],
  ];
  test.each(cases)('%s', (_, raw) => {
    expect(() => JSON.parse(raw)).not.toThrow();
    expect(viaScan(raw)).toEqual(viaParse(raw));
  });

  test("a deciding key after the bodies, the line just parsed (the parser's member table answers): the last one wins, as JSON.parse", () => {
    const ev = compilePolicy(parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  verbs: [create]\n- level: Metadata\n', 'p').policy);
    for (const key of ['verb', 'stage', 'level', 'user', 'objectRef', 'requestURI', 'auditID']) {
      const value = key === 'verb' ? '"create"' : key === 'user' ? '{"username":"tim"}' : key === 'objectRef' ? '{"resource":"pods"}' : '"x"';
      const raw = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"a","stage":"ResponseComplete","requestURI":"/api","verb":"${key === 'verb' ? 'get' : 'create'}","user":{"username":"u"},"requestObject":{"a":1},"${key}":${value}}`;
      parseLine(raw, false, true, 0);
      expect(viaScan(raw), key).toEqual(viaParse(raw));
      parseLine(raw, false, true, 0);
      expect(applyPolicy(raw, ev).decision.rule, key).toBe(0);
    }
  });

  test('an escaped key at a level the scan reads: it gives up (the caller uses JSON.parse), and the outcome is the same', () => {
    const raw = '{"\\u0076erb":"create","user":{"username":"tim"},"level":"Request"}';
    expect(scanEvent(raw)).toBeUndefined();
    const ev = compilePolicy(parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  verbs: [create]\n- level: Metadata\n', 'p').policy);
    expect(applyPolicy(raw, ev).decision.rule).toBe(0);
    expect(scanEvent('{"a":1,"user":{"user\\u006eame":"x"}}')).toBeUndefined();
    // after a body too: the scan that stops at the first body must not miss it
    const late = '{"level":"Request","requestObject":{"a":1},"\\u0076erb":"create","user":{"username":"tim"}}';
    expect(scanEvent(late)).toBeUndefined();
    expect(applyPolicy(late, ev).decision.rule).toBe(0);
    expect(viaScan('{"requestObject":{"a":"\\"verb\\""},"verb":"get","responseObject":{"level":1},"stage":"Panic"}')).toEqual(
      viaParse('{"requestObject":{"a":"\\"verb\\""},"verb":"get","responseObject":{"level":1},"stage":"Panic"}'),
    );
    // an escaped key inside a body is fine
    expect(viaScan('{"requestObject":{"\\u0076erb":"x"},"verb":"get"}')).toEqual(viaParse('{"requestObject":{"\\u0076erb":"x"},"verb":"get"}'));
  });

  test('every real event', () => {
    let n = 0;
    for (const f of REAL_LOGS) {
      for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
        const l = line.replace(/\r$/, '');
        if (!l) continue;
        expect(viaScan(l)).toEqual(viaParse(l));
        n++;
      }
    }
    expect(n).toBeGreaterThan(80);
  });
});

describe('body removal', () => {
  const policy = (text: string) => compilePolicy(parsePolicy(`apiVersion: audit.k8s.io/v1\nkind: Policy\n${text}`, 'p').policy);
  const ref = (rules: RefPolicy['rules'], omitManagedFields = false): RefPolicy => ({ rules, omitStages: [], omitManagedFields });

  test.each([
    ['Metadata removes both bodies and lowers the level', 'rules: [{level: Metadata}]', ref([{ level: 'Metadata' }])],
    ['Request removes the response', 'rules: [{level: Request}]', ref([{ level: 'Request' }])],
    ['RequestResponse keeps both', 'rules: [{level: RequestResponse}]', ref([{ level: 'RequestResponse' }])],
    ['omitManagedFields of the policy', 'omitManagedFields: true\nrules: [{level: RequestResponse}]', ref([{ level: 'RequestResponse' }], true)],
    ['omitManagedFields overridden by the rule', 'omitManagedFields: true\nrules: [{level: RequestResponse, omitManagedFields: false}]', ref([{ level: 'RequestResponse', omitManagedFields: false }], true)],
    ['omitManagedFields with Request', 'rules: [{level: Request, omitManagedFields: true}]', ref([{ level: 'Request', omitManagedFields: true }])],
  ])('%s', (_, text, r) => {
    const ev = policy(text);
    for (const raw of [j(base), JSON.stringify(base, null, 1), j({ ...base, level: 'Metadata' }), j({ ...base, level: 'Request', responseObject: undefined })]) {
      const out = applyPolicy(raw, ev).out!;
      const want = refEvaluate(r, raw);
      expect(JSON.parse(out)).toEqual(want.event);
      if (!want.changed) expect(out).toBe(raw);
    }
  });

  test('the level never raises: a Metadata event under a RequestResponse rule is shipped as it was', () => {
    const raw = j({ ...base, level: 'Metadata', requestObject: undefined, responseObject: undefined });
    expect(applyPolicy(raw, policy('rules: [{level: RequestResponse}]')).out).toBe(raw);
  });

  test('managedFields of each item of a list, in both bodies', () => {
    const list = { kind: 'PodList', items: [{ metadata: { name: 'a', managedFields: [1] } }, { metadata: { name: 'b' } }, 'odd', { metadata: { managedFields: null } }] };
    const raw = j({ ...base, requestObject: list, responseObject: list });
    const out = JSON.parse(applyPolicy(raw, policy('omitManagedFields: true\nrules: [{level: RequestResponse}]')).out!);
    expect(out.requestObject.items).toEqual([{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }, 'odd', { metadata: {} }]);
    expect(out.responseObject).toEqual(out.requestObject);
  });

  test('duplicate body keys are all removed', () => {
    const raw = '{"level":"RequestResponse","requestObject":{"a":1},"verb":"get","requestObject":{"b":2},"responseObject":3}';
    expect(JSON.parse(applyPolicy(raw, policy('rules: [{level: Metadata}]')).out!)).toEqual({ level: 'Metadata', verb: 'get' });
  });

  test('seeded variations of real events: scan + splice equals parse + delete', () => {
    const rng = createRng(11);
    const lines = REAL_LOGS.flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.trim()));
    const policies: Array<[string, RefPolicy]> = [
      ['omitManagedFields: true\nrules: [{level: Metadata, verbs: [get]}, {level: Request, resources: [{group: ""}]}, {level: RequestResponse}]', { rules: [{ level: 'Metadata', verbs: ['get'] }, { level: 'Request', resources: [{ group: '' }] }, { level: 'RequestResponse' }], omitStages: [], omitManagedFields: true }],
    ];
    for (let k = 0; k < 400; k++) {
      const obj = JSON.parse(rng.pick(lines)) as Record<string, unknown>;
      const keys = Object.keys(obj);
      // shuffle the members, sometimes pretty-print, sometimes escape a character of a string value
      for (let i = keys.length - 1; i > 0; i--) {
        const x = rng.int(0, i);
        [keys[i], keys[x]] = [keys[x]!, keys[i]!];
      }
      const shuffled: Record<string, unknown> = {};
      for (const key of keys) shuffled[key] = obj[key];
      let raw = rng.next() < 0.3 ? JSON.stringify(shuffled, null, rng.int(1, 3)) : JSON.stringify(shuffled);
      if (rng.next() < 0.5) raw = raw.replace(/"(verb|username|resource)":"(.)/, (_m, key: string, c: string) => `"${key}":"\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
      expect(viaScan(raw)).toEqual(viaParse(raw));
      for (const [text, r] of policies) {
        const want = refEvaluate(r, raw);
        // through a walk of the text, and through the parser's member table (the line just parsed)
        for (const parsed of [false, true]) {
          parseLine(parsed ? raw : '{}', false, true, 0);
          const mine = applyPolicy(raw, policy(text));
          expect(mine.decision.rule).toBe(want.rule);
          expect(mine.out === undefined ? undefined : JSON.parse(mine.out)).toEqual(want.event);
        }
      }
    }
  });
});
