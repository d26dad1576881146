// The planner is pure: observations + records in, actions out. No file system.
import { describe, expect, test } from 'vitest';
import { fingerprintOf } from '../../../src/identity/fingerprint.js';
import type { StreamRecord } from '../../../src/identity/stream-record.js';
import { identify } from '../../../src/tail/identify.js';
import { checkActive, checkLingering, planAdopt, planResume, type ResumeInput } from '../../../src/tail/planner.js';

const head = (s: string): Buffer => Buffer.from(s);
function rec(id: string, content: string, over: Partial<StreamRecord> = {}): StreamRecord {
  return { id, input: 'a', lane: '/l/k.audit', file: '/l/k.audit', dev: 1, ino: 10, fp: fingerprintOf(head(content)), offset: 0, sealed: [], size: content.length, state: 'active', updatedAt: 0, ...over };
}
const st = (ino: number, size: number) => ({ dev: 1, ino, size });
const base: ResumeInput = { records: [], backups: [], active: {}, startup: true, backfill: false, startAt: 'beginning' };

describe('identify: the one identity rule', () => {
  const r = rec('r', 'hello');
  test.each([
    ['same inode, head grown', { st: st(10, 9), head: head('hello wor') }, false, 'r'],
    ['same inode, other content (inode reused)', { st: st(10, 5), head: head('other') }, true, undefined],
    ['other inode, same content, running', { st: st(11, 5), head: head('hello') }, false, undefined],
    ['other inode, same content, at resume', { st: st(11, 5), head: head('hello') }, true, 'r'],
    ['a .gz (no stat): content decides', { head: head('hello!') }, false, 'r'],
    ['a .gz shorter than the fingerprint', { head: head('hel') }, false, undefined],
  ])('%s', (_name, seen, byContent, want) => {
    expect(identify([r], seen, byContent)?.id).toBe(want);
  });
  test('an empty fingerprint matches only by inode', () => {
    const e = rec('e', '');
    expect(identify([e], { head: head('x') }, true)).toBeUndefined();
    expect(identify([e], { st: st(10, 1), head: head('x') }, false)?.id).toBe('e');
  });
});

describe('planResume', () => {
  test('first start without --backfill: backups are known history, the active file is followed', () => {
    const acts = planResume({
      ...base,
      backups: [{ file: '/l/k-1.audit', gz: false, seen: { st: st(5, 100), head: head('old') } }],
      active: { seen: { st: st(6, 40), head: head('new') } },
    });
    expect(acts.map((a) => [a.kind, 'read' in a ? a.read : undefined])).toEqual([
      ['new', false],
      ['new', true],
    ]);
    const hist = acts[0] as Extract<(typeof acts)[0], { kind: 'new' }>;
    expect(hist.fresh).toMatchObject({ state: 'done', offset: 100, size: 100 });
  });

  test('first start with --start-at end: the active file from its end; with --backfill backups from 0', () => {
    const acts = planResume({
      ...base,
      backfill: true,
      startAt: 'end',
      backups: [{ file: '/l/k-1.audit', gz: false, seen: { st: st(5, 100), head: head('old') } }],
      active: { seen: { st: st(6, 40), head: head('new') } },
    });
    expect(acts.map((a) => (a.kind === 'new' ? [a.fresh.state, a.fresh.offset, a.read] : a.kind))).toEqual([
      ['rotated', 0, true],
      ['active', 40, true],
    ]);
  });

  test('restart: the checkpointed active file, now a backup, resumes at its offset; the new file from 0', () => {
    const r = rec('r', 'aaaa', { offset: 3, size: 4 });
    const acts = planResume({
      ...base,
      records: [r],
      backups: [{ file: '/l/k-1.audit', gz: false, seen: { st: st(10, 8), head: head('aaaabbbb') } }],
      active: { seen: { st: st(11, 2), head: head('cc') } },
    });
    expect(acts[0]).toMatchObject({ kind: 'resume', rec: r, start: 3, active: false, read: true, file: '/l/k-1.audit' });
    expect(acts[1]).toMatchObject({ kind: 'new', active: true, fresh: { offset: 0, state: 'active' } });
  });

  test('restart: a backup compressed meanwhile is found by content', () => {
    const r = rec('r', 'aaaa', { offset: 2, state: 'rotated', file: '/l/k-1.audit' });
    const acts = planResume({ ...base, records: [r], backups: [{ file: '/l/k-1.audit.gz', gz: true, seen: { head: head('aaaa') } }] });
    expect(acts).toEqual([{ kind: 'resume', rec: r, file: '/l/k-1.audit.gz', gz: true, start: 2, active: false, read: true }]);
  });

  test('restart: a done record whose file is fully read is kept, not read', () => {
    const r = rec('r', 'aaaa', { offset: 4, state: 'done' });
    const acts = planResume({ ...base, records: [r], backups: [{ file: '/l/k-1.audit', gz: false, seen: { st: st(10, 4), head: head('aaaa') } }] });
    expect(acts).toMatchObject([{ kind: 'resume', read: false }]);
  });

  test('restart: the active file shorter than its checkpoint was truncated while stopped: read from 0', () => {
    const r = rec('r', 'ab', { offset: 50 });
    const acts = planResume({ ...base, records: [r], active: { seen: { st: st(10, 2), head: head('ab') } } });
    expect(acts.map((a) => a.kind)).toEqual(['shorter', 'new']);
    expect(acts[1]).toMatchObject({ fresh: { offset: 0 } });
  });

  test('restart: a record whose file is gone unread is lost (what is known of it); a done one is not', () => {
    const gone = rec('g', 'zz', { offset: 10, size: 25, state: 'rotated' });
    const done = rec('d', 'yy', { state: 'done' });
    const acts = planResume({ ...base, records: [gone, done], active: { seen: { st: st(99, 0), head: head('') } } });
    expect(acts.filter((a) => a.kind === 'lost')).toEqual([{ kind: 'lost', rec: gone, bytes: 15 }]);
  });

  test('an unreadable backup is skipped; an active file that cannot be opened is reported, a missing one is not', () => {
    expect(planResume({ ...base, backups: [{ file: '/l/x', gz: false, error: 'EACCES' }], active: { code: 'EACCES', error: 'denied' } }).map((a) => a.kind)).toEqual([
      'unreadable',
      'cannot-open',
    ]);
    expect(planResume({ ...base, active: { code: 'ENOENT', error: 'gone' } })).toEqual([]);
  });
});

describe('planAdopt', () => {
  test('a backup with the active stream inode: renamed since the stat, the active stream is rotated', () => {
    const r = rec('r', 'abc');
    expect(planAdopt([r], [{ file: '/l/k-1.audit', gz: false, seen: { st: st(10, 3), head: head('abc') } }], 'r')).toEqual([
      { kind: 'renamed', rec: r, file: '/l/k-1.audit', wasActive: true },
    ]);
  });
  test('a backup nobody has seen is new content, read from 0', () => {
    const acts = planAdopt([rec('r', 'abc')], [{ file: '/l/k-2.audit', gz: false, seen: { st: st(12, 7), head: head('between') } }], 'r');
    expect(acts).toMatchObject([{ kind: 'new', fresh: { file: '/l/k-2.audit', offset: 0, size: 7, state: 'rotated' } }]);
  });
});

describe('checkActive and checkLingering', () => {
  test.each([
    [undefined, st(1, 10), 5, 'rotated'],
    [st(2, 10), st(1, 10), 5, 'rotated'],
    [st(1, 3), st(1, 3), 5, 'truncated'],
    [st(1, 10), st(1, 10), 5, 'check-content'],
  ] as const)('path %j held %j position %d → %s', (p, h, pos, want) => {
    expect(checkActive(p, h, pos)).toBe(want);
  });
  test.each([
    [12, 10, 0, 100, 'grew'],
    [10, 10, 50, 100, 'wait'],
    [10, 10, 100, 100, 'finish'],
  ] as const)('size %d position %d now %d until %d → %s', (size, pos, now, until, want) => {
    expect(checkLingering(size, pos, now, until)).toBe(want);
  });
});
