// The scenario helpers themselves: a test that passes against a writer that is not lumberjack-faithful, or a
// diff that misses a duplicate, proves nothing. No agent here; fast.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createAuditGen, goJson } from '../helpers/audit-gen.js';
import { backupName, backupTime, createLumberjack } from '../helpers/lumberjack.js';
import { diffKeys, formatDiff, orderProblem, SinkReader } from '../helpers/ndjson.js';

const dirs: string[] = [];
const tmp = (): string => {
  fs.mkdirSync(path.join(os.tmpdir(), 'tailship-scenarios'), { recursive: true });
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tailship-scenarios', 'selftest-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const readAny = (p: string): string => (p.endsWith('.gz') ? zlib.gunzipSync(fs.readFileSync(p)) : fs.readFileSync(p)).toString();

describe('lumberjack writer', () => {
  it('rotates before a write that would exceed maxsize: no file too big, no event split, none lost', async () => {
    const dir = tmp();
    const lj = createLumberjack({ path: path.join(dir, 'kubernetes.audit'), maxSizeBytes: 20_000, maxBackups: 0, compress: false });
    const gen = createAuditGen({ seed: 7, largeRate: 0 });
    const lines = gen.take(500);
    for (const l of lines) lj.write(l.line);
    await lj.close();
    expect(lj.rotations.length).toBeGreaterThan(10);
    const all: string[] = [];
    for (const f of [...lj.backups().reverse(), path.join(dir, 'kubernetes.audit')]) {
      const text = readAny(f);
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(20_000);
      expect(text.endsWith('\n')).toBe(true);
      all.push(...text.split('\n').filter(Boolean));
    }
    expect(all).toEqual(lines.map((l) => l.line.slice(0, -1)));
    expect(() => lj.write('x')).toThrow(/closed/);
  });

  it('refuses a single write larger than maxsize, like lumberjack', () => {
    const dir = tmp();
    const lj = createLumberjack({ path: path.join(dir, 'a.log'), maxSizeBytes: 100, maxBackups: 0, compress: false });
    expect(() => lj.write('x'.repeat(101))).toThrow('write length 101 exceeds maximum file size 100');
  });

  it('names backups <prefix>-<UTC 2006-01-02T15-04-05.000><ext>, unique within one millisecond', async () => {
    const dir = tmp();
    const frozen = new Date('2026-08-21T10:15:30.123Z');
    const lj = createLumberjack({ path: path.join(dir, 'kubernetes.audit'), maxSizeBytes: 1000, maxBackups: 0, compress: false, now: () => frozen });
    lj.write('a\n');
    lj.rotate();
    lj.write('b\n');
    lj.rotate();
    await lj.close();
    expect(lj.rotations.map((r) => path.basename(r.backup))).toEqual([
      'kubernetes-2026-08-21T10-15-30.123.audit',
      'kubernetes-2026-08-21T10-15-30.124.audit',
    ]);
    expect(path.basename(backupName('/x/audit/audit.log', Date.UTC(2021, 10, 3, 6, 52, 1, 404)))).toBe('audit-2021-11-03T06-52-01.404.log');
    expect(backupTime('/d/kubernetes.audit', 'kubernetes-2026-08-21T10-15-30.123.audit.gz')).toBe(frozen.getTime());
    expect(backupTime('/d/kubernetes.audit', 'kubernetes.audit.1')).toBeUndefined();
    expect(fs.readFileSync(path.join(dir, 'kubernetes.audit'), 'utf8')).toBe('');
  });

  it('appends to an existing file on start (an API server restart keeps the inode)', () => {
    const dir = tmp();
    const file = path.join(dir, 'kubernetes.audit');
    fs.writeFileSync(file, 'old\n');
    const ino = fs.statSync(file).ino;
    const lj = createLumberjack({ path: file, maxSizeBytes: 1000, maxBackups: 0, compress: false });
    lj.write('new\n');
    expect(fs.readFileSync(file, 'utf8')).toBe('old\nnew\n');
    expect(fs.statSync(file).ino).toBe(ino);
  });

  it('mill: counts x and x.gz once for maxBackups, removes the oldest by name, gzips the rest (gz first, then unlink)', async () => {
    const dir = tmp();
    const file = path.join(dir, 'kubernetes.audit');
    const t = Date.UTC(2026, 0, 1);
    // Three older backups; the middle one is mid-compression (plain and .gz both there).
    fs.writeFileSync(backupName(file, t), 'one\n');
    fs.writeFileSync(backupName(file, t + 1000), 'two\n');
    fs.writeFileSync(`${backupName(file, t + 1000)}.gz`, zlib.gzipSync('two\n'));
    fs.writeFileSync(backupName(file, t + 2000), 'three\n');
    fs.writeFileSync(path.join(dir, 'unrelated.audit'), 'keep\n');
    const seen: string[] = [];
    const lj = createLumberjack({
      path: file,
      maxSizeBytes: 1000,
      maxBackups: 3,
      compress: true,
      now: () => new Date(t + 3000),
      hooks: {
        gzPartial: ({ plain, gz }) => {
          seen.push(`partial ${path.basename(gz)} plain=${fs.existsSync(plain)}`);
          expect(() => zlib.gunzipSync(fs.readFileSync(gz))).toThrow(); // not complete yet
        },
        gzComplete: ({ plain, gz }) => {
          seen.push(`complete ${path.basename(gz)} plain=${fs.existsSync(plain)}`);
          expect(zlib.gunzipSync(fs.readFileSync(gz)).toString()).toBe(fs.readFileSync(plain, 'utf8'));
        },
        removed: (f) => {
          seen.push(`removed ${path.basename(f)}`);
        },
      },
    });
    lj.write('four\n'); // the first write mills too (lumberjack: at start): 3 backups kept, all gzipped
    lj.rotate(); // backup t+3000; now 4 distinct backups > 3 ⇒ the oldest ("one", by now one.gz) goes
    await lj.millIdle();
    await lj.close();
    expect(lj.removed.map((f) => path.basename(f))).toEqual(['kubernetes-2026-01-01T00-00-00.000.audit.gz']);
    expect(fs.readdirSync(dir).sort()).toEqual([
      'kubernetes-2026-01-01T00-00-01.000.audit.gz',
      'kubernetes-2026-01-01T00-00-02.000.audit.gz',
      'kubernetes-2026-01-01T00-00-03.000.audit.gz',
      'kubernetes.audit',
      'unrelated.audit',
    ]);
    expect(seen).toContain('removed kubernetes-2026-01-01T00-00-00.000.audit.gz');
    expect(seen.indexOf('partial kubernetes-2026-01-01T00-00-00.000.audit.gz plain=true')).toBeLessThan(
      seen.indexOf('removed kubernetes-2026-01-01T00-00-00.000.audit.gz'),
    );
    expect(seen).toContain('partial kubernetes-2026-01-01T00-00-03.000.audit.gz plain=true');
    expect(seen).toContain('complete kubernetes-2026-01-01T00-00-03.000.audit.gz plain=true');
    expect(readAny(path.join(dir, 'kubernetes-2026-01-01T00-00-01.000.audit.gz'))).toBe('two\n');
    expect(readAny(path.join(dir, 'kubernetes-2026-01-01T00-00-03.000.audit.gz'))).toBe('four\n');
  });
});

describe('audit event generator', () => {
  it('is deterministic per seed, writes valid one-line v1 events, RequestReceived before the later stages', () => {
    const a = createAuditGen({ seed: 42 }).take(2000);
    const b = createAuditGen({ seed: 42 }).take(2000);
    expect(a.map((l) => l.line)).toEqual(b.map((l) => l.line));
    expect(createAuditGen({ seed: 43 }).take(5).map((l) => l.line)).not.toEqual(a.slice(0, 5).map((l) => l.line));
    const firstStage = new Map<string, string>();
    for (const l of a) {
      expect(l.line.endsWith('\n')).toBe(true);
      expect(l.line.indexOf('\n')).toBe(l.line.length - 1);
      const ev = JSON.parse(l.line) as Record<string, unknown>;
      expect(ev.apiVersion).toBe('audit.k8s.io/v1');
      expect(`${ev.auditID as string} ${ev.stage as string}`).toBe(l.key);
      if (!firstStage.has(l.auditID)) firstStage.set(l.auditID, l.stage);
      if (l.stage === 'RequestReceived') expect(ev.requestObject ?? ev.responseObject).toBeUndefined();
      if (ev.level === 'Metadata') expect(ev.requestObject ?? ev.responseObject).toBeUndefined();
    }
    expect([...firstStage.values()].every((s) => s === 'RequestReceived')).toBe(true);
    expect(new Set(a.map((l) => l.key)).size).toBe(a.length);
    expect(new Set(a.map((l) => l.level))).toEqual(new Set(['Metadata', 'Request', 'RequestResponse']));
    expect(goJson({ s: '<a&b>' })).toBe('{"s":"\\u003ca\\u0026b\\u003e"}');
  });

  it('makes large events on request and client-set Audit-ID collisions when asked', () => {
    const gen = createAuditGen({ seed: 1, collisionRate: 1, collisionIds: ['fixed'] });
    const big = gen.large(300_000);
    expect(big.at(-1)!.bytes).toBeGreaterThan(300_000);
    expect(gen.take(10).every((l) => l.auditID === 'fixed')).toBe(true);
  });
});

describe('sink reader and key diffs', () => {
  it('parses only complete lines, and does not read a renamed sink file twice', () => {
    const dir = tmp();
    const active = path.join(dir, 'audit-test.ndjson');
    fs.writeFileSync(active, '{"auditID":"a","stage":"S"}\n{"auditID":"b","st');
    const r = new SinkReader(dir);
    expect(r.poll().map((l) => l.auditID)).toEqual(['a']);
    fs.appendFileSync(active, 'age":"S"}\n');
    expect(r.poll().map((l) => l.auditID)).toEqual(['b']);
    fs.renameSync(active, path.join(dir, 'audit-test-1.ndjson')); // the sink rotates its output
    fs.writeFileSync(active, '{"auditID":"c","stage":"S"}\nnot json\n');
    expect(r.poll().map((l) => l.auditID)).toEqual(['c']);
    expect(r.logs.length).toBe(3);
    expect(r.garbage).toEqual(['not json']);
  });

  it('diffs multisets: missing, duplicated and unexpected keys are listed by name', () => {
    const d = diffKeys(['a', 'b', 'b', 'c'], ['a', 'a', 'b', 'x']);
    expect(d.missing).toEqual([
      ['b', 2, 1],
      ['c', 1, 0],
    ]);
    expect(d.duplicated).toEqual([['a', 1, 2]]);
    expect(d.unexpected).toEqual([['x', 1]]);
    expect(d.missingCount).toBe(2);
    expect(d.duplicateCount).toBe(1);
    const msg = formatDiff(d);
    expect(msg).toContain('MISSING 2 events');
    expect(msg).toContain('c  written 1×, delivered 0×');
    expect(msg).toContain('DUPLICATED 1 extra deliveries');
    expect(orderProblem(['a', 'b', 'c'], ['a', 'c', 'b'])).toMatch(/b \(written #1\)/);
    expect(orderProblem(['a', 'b', 'c'], ['a', 'a', 'b', 'c', 'b'])).toBeNull();
  });
});
