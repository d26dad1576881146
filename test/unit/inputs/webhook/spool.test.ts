import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { DedupeWindow, keyHash } from '../../../../src/inputs/webhook/dedupe.js';
import { Spool, type SpoolProgress } from '../../../../src/inputs/webhook/spool.js';
import { createLogger } from '../../../../src/observe/log.js';

const logger = createLogger('silent');
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const ev = (id: string) => Buffer.from(JSON.stringify({ auditID: id, stage: 'ResponseComplete', level: 'Metadata', verb: 'get', requestURI: '/' }));
const open = (progress: SpoolProgress[] = [], o: Partial<ConstructorParameters<typeof Spool>[0]> = {}) => {
  const dedupe = new DedupeWindow({ file: path.join(dir, 'dedupe.keys') });
  return { dedupe, spool: new Spool({ dir, rotateBytes: 1 << 20, maxUnackedBytes: 1 << 20, committed: () => progress, dedupe, logger, deleteGraceMs: 0, ...o }) };
};
const active = () => fs.readFileSync(path.join(dir, 'audit.log'), 'utf8');

describe('webhook spool', () => {
  test('groups are appended one event per line, durable before append resolves', async () => {
    const { spool } = open();
    await Promise.all([spool.append([ev('a'), ev('b')], []), spool.append([ev('c')], [])]);
    expect(active().split('\n').filter(Boolean).map((l) => JSON.parse(l).auditID)).toEqual(['a', 'b', 'c']);
    await spool.close();
  });

  test('close() while groups are being written waits for that write, then closes: what was accepted is on disk', async () => {
    const { spool } = open();
    const appended = [spool.append([ev('a')], []), spool.append([ev('b')], [])];
    await spool.close(); // called while the first group is being written and the second waits for it
    expect(active().split('\n').filter(Boolean).map((l) => JSON.parse(l).auditID)).toEqual(['a', 'b']);
    await Promise.all(appended);
    await expect(spool.append([ev('c')], [])).rejects.toThrow(/closed/);
  });

  test('crash in the middle of the spool write: the restart completes the group from the journal (same bytes, same offset)', async () => {
    const { spool } = open();
    await spool.append([ev('first')], []);
    await spool.close();
    const before = fs.statSync(path.join(dir, 'audit.log'));
    // Journal of a second group written and synced, the spool write cut after 10 bytes:
    const data = Buffer.concat([ev('x1'), Buffer.from('\n'), ev('x2'), Buffer.from('\n')]);
    const header = { file: 'audit.log', ino: before.ino, offset: before.size, length: data.length, sha256: createHash('sha256').update(data).digest('hex') };
    fs.writeFileSync(path.join(dir, 'journal'), Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), data]));
    fs.appendFileSync(path.join(dir, 'audit.log'), data.subarray(0, 10));
    const { spool: again, dedupe } = open();
    expect(active().split('\n').filter(Boolean).map((l) => JSON.parse(l).auditID)).toEqual(['first', 'x1', 'x2']);
    // and its keys are known: a retry of that list is a duplicate
    expect(dedupe.has(keyHash('x2\u0000ResponseComplete'))).toBe(true);
    await again.close();
  });

  test('a torn journal (crash while writing it): the spool is untouched, nothing of that group exists', async () => {
    const { spool } = open();
    await spool.append([ev('first')], []);
    await spool.close();
    const data = Buffer.concat([ev('lost'), Buffer.from('\n')]);
    const st = fs.statSync(path.join(dir, 'audit.log'));
    const header = { file: 'audit.log', ino: st.ino, offset: st.size, length: data.length, sha256: createHash('sha256').update(data).digest('hex') };
    fs.writeFileSync(path.join(dir, 'journal'), Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), data.subarray(0, 5)]));
    const { spool: again } = open();
    expect(active()).toBe(`${ev('first')}\n`);
    await again.close();
  });

  test('rotation, unacknowledged bytes, deletion once acknowledged to the end', async () => {
    const progress: SpoolProgress[] = [];
    const { spool } = open(progress, { rotateBytes: 100, maxUnackedBytes: 300 });
    await spool.append([ev('r1'), ev('r2')], []); // > 100 bytes: rotated after this group
    const backups = fs.readdirSync(dir).filter((n) => /^audit-.*\.log$/.test(n));
    expect(backups).toHaveLength(1);
    const backup = path.join(dir, backups[0]!);
    const size = fs.statSync(backup).size;
    expect(spool.unackedBytes()).toBe(size);
    expect(spool.full(300 - size + 1)).toBe(true);
    spool.cleanup();
    expect(fs.existsSync(backup)).toBe(true); // not acknowledged
    progress.push({ path: backup, committed: size - 1, ino: fs.statSync(backup).ino });
    spool.cleanup();
    expect(fs.existsSync(backup)).toBe(true); // one byte short
    progress[0]!.committed = size;
    spool.cleanup();
    expect(fs.existsSync(backup)).toBe(false);
    expect(spool.unackedBytes()).toBe(0);
    await spool.close();
  });

  test('dedupe keys persist across restarts; a lost key file is rebuilt from the spool', async () => {
    const { spool, dedupe } = open();
    const h = keyHash('k1\u0000ResponseComplete');
    dedupe.add([h]);
    await spool.append([ev('k1')], [h]);
    await spool.close();
    expect(new DedupeWindow({ file: path.join(dir, 'dedupe.keys') }).has(h)).toBe(true);
    fs.rmSync(path.join(dir, 'dedupe.keys'));
    const { spool: again, dedupe: d2 } = open();
    expect(d2.has(h)).toBe(true);
    await again.close();
  });

  test('the window is bounded: old generations are forgotten', () => {
    const w = new DedupeWindow({ file: path.join(dir, 'w.keys'), maxKeys: 100 });
    const keys = Array.from({ length: 300 }, (_, i) => keyHash(`k${i}`));
    for (const k of keys) {
      w.add([k]);
      w.persist([k]);
    }
    expect(w.size).toBeLessThanOrEqual(100);
    expect(w.has(keys[299]!)).toBe(true);
    expect(w.has(keys[0]!)).toBe(false);
    w.close();
    const again = new DedupeWindow({ file: path.join(dir, 'w.keys'), maxKeys: 100 });
    expect(again.has(keys[299]!)).toBe(true);
    expect(again.size).toBeLessThanOrEqual(100);
  });
});
