import fs from 'node:fs';
import { describe, expect, test } from 'vitest';
import { legacyKind, looksLegacy, parseGoList, parseLegacyLine, toEvent, type LegacyLine } from '../../../src/parse/legacy.js';

const FIX = new URL('../../fixtures/audit/legacy/', import.meta.url);
const lines = (name: string): string[] => fs.readFileSync(new URL(name, FIX), 'utf8').split('\n').filter(Boolean);
const parse = (l: string): LegacyLine => {
  const p = parseLegacyLine(l);
  if (!p || 'error' in p) throw new Error(`not parsed: ${JSON.stringify(p)}`);
  return p;
};

describe('legacy line parser', () => {
  test('1.8 --audit-log-format=legacy lines (k8s docs): every field as SPEC §9 lists', () => {
    const [rr, rc] = lines('k8s-docs-1.8-legacy-stages.audit.log').map(parse);
    expect(legacyKind(rr!)).toBe('stage');
    expect(toEvent(rr!)).toEqual({
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      auditID: 'c28a95ad-f9dd-47e1-a617-b6dc152db95f',
      stage: 'RequestReceived',
      requestURI: '/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles',
      verb: 'list',
      user: { username: 'kubecfg', groups: ['system:masters', 'system:authenticated'] },
      sourceIPs: ['172.16.116.128'],
      objectRef: { namespace: 'default' },
      // -04:00 in the line, UTC here, every digit kept
      requestReceivedTimestamp: '2017-09-05T10:08:19.885328047Z',
      stageTimestamp: '2017-09-05T10:08:19.885328047Z',
    });
    const done = toEvent(rc!);
    expect(done.stage).toBe('ResponseComplete');
    expect(done.responseStatus).toEqual({ metadata: {}, code: 200 });
  });

  test('1.7 lines: escaped quotes in groups, service account user', () => {
    const [rr] = lines('k8s-docs-1.7-legacy-stages.audit.log').map(parse);
    const ev = toEvent(rr!);
    expect(ev.user).toEqual({
      username: 'system:serviceaccount:kube-system:default',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
    });
    expect(ev.verb).toBe('update');
    expect(ev.responseStatus).toBeUndefined(); // response="<deferred>"
    expect(ev.impersonatedUser).toBeUndefined(); // as="<self>" asgroups="<lookup>"
    expect(ev.requestReceivedTimestamp).toBe('2017-06-15T21:50:50.259470834Z');
  });

  test('pre-1.7 pair (fluentd example): request and response line, joined', () => {
    const [req, resp] = lines('fluentd-k8s-daemonset-example.audit.log').map(parse);
    expect(legacyKind(req!)).toBe('request');
    expect(legacyKind(resp!)).toBe('response');
    expect(toEvent(req!, resp!)).toEqual({
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      auditID: '90c73c7c-97d6-4b65-9461-f94606ff825f',
      stage: 'ResponseComplete',
      requestURI: '/api/v1/namespaces/default/pods',
      verb: 'get', // the HTTP method, lowercased
      user: { username: 'kubecfg' },
      sourceIPs: ['104.132.1.72'],
      objectRef: { namespace: 'default' },
      responseStatus: { metadata: {}, code: 200 },
      requestReceivedTimestamp: '2017-02-09T00:15:57.992775796Z',
      stageTimestamp: '2017-02-09T00:15:57.993528822Z',
    });
  });

  test('impersonation, user-agent, escapes', () => {
    const l = parse(
      '2021-01-02T03:04:05.5Z AUDIT: id="x1" stage="ResponseComplete" ip="<unknown>" method="get" user="<none>" groups="<none>" as="bob" asgroups="\\"dev\\",\\"ops \\\\\\\\ x\\"" user-agent="kubectl/v1.22 \\"q\\"" namespace="<none>" uri="/api?x=\\u00e9" response="403"',
    );
    const ev = toEvent(l);
    expect(ev.impersonatedUser).toEqual({ username: 'bob', groups: ['dev', 'ops \\ x'] });
    expect(ev.userAgent).toBe('kubectl/v1.22 "q"');
    expect(ev.requestURI).toBe('/api?x=é');
    expect(ev.sourceIPs).toBeUndefined();
    expect(ev.objectRef).toBeUndefined();
    expect(ev.user).toEqual({});
    expect(ev.responseStatus).toEqual({ metadata: {}, code: 403 });
    expect(ev.stageTimestamp).toBe('2021-01-02T03:04:05.5Z');
  });

  test('bad input: unterminated quote, unquoted value, bad escape → an error that names the key', () => {
    const r = parseLegacyLine('2017-02-09T00:15:57Z AUDIT: id="a" user="never closed');
    expect(r).toEqual({ error: expect.stringMatching(/unterminated quote.*"user"/) });
    expect(parseLegacyLine('2017-02-09T00:15:57Z AUDIT: id="a" user=bob')).toEqual({ error: expect.stringMatching(/not quoted/) });
    expect(parseLegacyLine('2017-02-09T00:15:57Z AUDIT: id="a" user="\\q"')).toEqual({ error: expect.stringMatching(/escape/) });
    expect(parseLegacyLine('2017-02-09T00:15:57Z AUDIT: ip="1"')).toEqual({ error: expect.stringMatching(/no id/) });
    expect(parseLegacyLine('{"kind":"Event"}')).toBeUndefined();
    expect(looksLegacy('{"kind":"Event"}')).toBe(false);
    expect(looksLegacy(lines('fluentd-k8s-daemonset-example.audit.log')[0]!)).toBe(true);
  });

  test('parseGoList', () => {
    expect(parseGoList('"a","b"')).toEqual(['a', 'b']);
    expect(parseGoList('"a\\"b"')).toEqual(['a"b']);
    expect(parseGoList('<none>')).toBeUndefined();
    expect(parseGoList('plain')).toEqual(['plain']);
  });
});
