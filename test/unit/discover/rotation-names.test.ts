import { expect, test } from 'vitest';
import { segmentMatcher } from '../../../src/discover/glob.js';
import { backupNameFor, isBackupOf, parseBackupName } from '../../../src/discover/rotation-names.js';

test.each([
  ['kubernetes-2026-08-21T10-15-30.123.audit', { activeBase: 'kubernetes.audit', stamp: '2026-08-21T10-15-30.123', gz: false }],
  ['kubernetes-2026-08-21T10-15-30.123.audit.gz', { activeBase: 'kubernetes.audit', stamp: '2026-08-21T10-15-30.123', gz: true }],
  ['audit-2021-11-03T06-52-01.404.log', { activeBase: 'audit.log', stamp: '2021-11-03T06-52-01.404', gz: false }],
  ['audit-2026-01-01T00-00-00.000', { activeBase: 'audit', stamp: '2026-01-01T00-00-00.000', gz: false }],
  ['my-app-2026-01-01T00-00-00.000.log', { activeBase: 'my-app.log', stamp: '2026-01-01T00-00-00.000', gz: false }],
  ['kubernetes.audit', undefined],
  ['kubernetes-2026-08-21.audit', undefined],
])('parseBackupName(%s)', (name, expected) => {
  expect(parseBackupName(name)).toEqual(expected);
});

test('backupNameFor matches lumberjack and parses back', () => {
  const name = backupNameFor('/var/log/kubernetes/kubernetes.audit', new Date(Date.UTC(2026, 7, 21, 10, 15, 30, 123)));
  expect(name).toBe('/var/log/kubernetes/kubernetes-2026-08-21T10-15-30.123.audit');
  expect(isBackupOf('kubernetes-2026-08-21T10-15-30.123.audit', 'kubernetes.audit')).toBeTruthy();
  expect(isBackupOf('kubernetes-2026-08-21T10-15-30.123.audit', 'other.audit')).toBeUndefined();
});

test('glob segment matcher', () => {
  expect(segmentMatcher('*.audit')('kubernetes.audit')).toBe(true);
  expect(segmentMatcher('*.audit')('x.audit.gz')).toBe(false);
  expect(segmentMatcher('a?c.log')('abc.log')).toBe(true);
  expect(segmentMatcher('a.c')('abc')).toBe(false);
});
