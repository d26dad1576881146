import { open, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { ErrorCodes } from '../../../src/errors.js';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { SinkError } from '../../../src/deliver/sink.js';
import { batchNdjson, logstoreFileStem } from '../../../src/deliver/ndjson.js';
import { createFileSink } from '../../../src/deliver/sinks/file-sink.js';
import { silentLogger } from '../../../src/observe/log.js';
import { deferred, lineEvent, makeBatch, objectEvent, tempDir } from './support.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => {
  vi.restoreAllMocks();
  await cleanup();
});

const ctx = { logger: silentLogger() };
const TAGS = '{"audit":"apiserver","__hostname__":"node-1","__path__":"/var/log/kubernetes/audit.log"}';

describe('file sink output', () => {
  test('sends made at once are written whole and in order; at most two are bytes at once; close waits for all of them', async () => {
    const sink = createFileSink(dir, ctx);
    const batches = Array.from({ length: 6 }, (_, i) => makeBatch({ n: 3, first: i * 3 }));
    const sent = batches.map((b) => sink.send(b));
    await sink.close(); // called before any send settled: once it returns, every one of them is written
    const text = await readFile(join(dir, 'audit-store.ndjson'), 'utf8');
    expect(text).toBe(batches.map((b) => batchNdjson(b)).join(''));
    await Promise.all(sent);
  });

  test('one line per log: the event object with __time__ and __tag__ (SPEC §3), exactly', async () => {
    const out = join(dir, 'nested', 'out');
    const sink = createFileSink(out, ctx);
    await sink.send(
      makeBatch({
        events: [
          objectEvent({ kind: 'Event', auditID: 'a1', verb: 'get' }, 1_700_000_001),
          lineEvent('plain "text" line', 1_700_000_002),
          lineEvent('{"broken', 1_700_000_003, { __parse_error__: 'unexpected end of JSON' }),
          { raw: '{"kind":"Event","__time__":5,"__tag__":{"x":"y"},"a":1}', isObject: true, time: 1_700_000_004, timeNs: 0 },
          objectEvent({}, 1_700_000_005, { __truncated__: 'true' }),
        ],
      }),
    );
    await sink.close();
    const text = await readFile(join(out, 'audit-store.ndjson'), 'utf8');
    expect(text.split('\n')).toEqual([
      `{"kind":"Event","auditID":"a1","verb":"get","__time__":1700000001,"__tag__":${TAGS}}`,
      `{"content":"plain \\"text\\" line","__time__":1700000002,"__tag__":${TAGS}}`,
      `{"content":"{\\"broken","__time__":1700000003,"__tag__":${TAGS.slice(0, -1)},"__parse_error__":"unexpected end of JSON"}}`,
      `{"kind":"Event","a":1,"__time__":1700000004,"__tag__":${TAGS}}`,
      `{"__time__":1700000005,"__tag__":${TAGS.slice(0, -1)},"__truncated__":"true"}}`,
      '',
    ]);
    for (const line of text.trimEnd().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });

  test('appends across batches and sinks; one file per logstore', async () => {
    const a = createFileSink(dir, ctx);
    await a.send(makeBatch({ n: 2, first: 0 }));
    await a.send(makeBatch({ n: 2, first: 2, logstore: 'other' }));
    await a.close();
    const b = createFileSink(dir, ctx);
    await b.send(makeBatch({ n: 1, first: 4 }));
    await b.close();
    const seqs = async (f: string) => (await readFile(join(dir, f), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l).seq);
    expect(await seqs('audit-store.ndjson')).toEqual([0, 1, 4]);
    expect(await seqs('other.ndjson')).toEqual([2, 3]);
  });

  test('concurrent sends to one logstore are written whole and in order', async () => {
    const sink = createFileSink(dir, ctx);
    await Promise.all(Array.from({ length: 40 }, (_, i) => sink.send(makeBatch({ n: 5, first: i * 5 }))));
    await sink.close();
    const seqs = (await readFile(join(dir, 'audit-store.ndjson'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l).seq);
    expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  test('a logstore name cannot escape the directory', () => {
    expect(logstoreFileStem('../../etc/passwd')).toBe('_._.._etc_passwd');
    expect(logstoreFileStem('audit-c1')).toBe('audit-c1');
    expect(logstoreFileStem('')).toBe('_');
  });
});

describe('file sink rotation', () => {
  test('rotates before the limit to {logstore}-{n}.ndjson, n increasing, no log lost or repeated', async () => {
    const one = batchNdjson(makeBatch({ n: 2 })).length;
    const limit = one * 3 + 10; // three batches fit, the fourth rotates
    const sink = createFileSink(dir, ctx, { rotateBytes: limit });
    for (let i = 0; i < 10; i++) await sink.send(makeBatch({ n: 2, first: i * 2 }));
    await sink.close();
    expect((await readdir(dir)).sort()).toEqual(['audit-store-1.ndjson', 'audit-store-2.ndjson', 'audit-store-3.ndjson', 'audit-store.ndjson']);
    for (const f of await readdir(dir)) expect((await stat(join(dir, f))).size).toBeLessThanOrEqual(limit);
    const order = ['audit-store-1.ndjson', 'audit-store-2.ndjson', 'audit-store-3.ndjson', 'audit-store.ndjson'];
    const seqs: number[] = [];
    for (const f of order) seqs.push(...(await readFile(join(dir, f), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l).seq));
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  test('never overwrites an existing rotated file, also after a restart', async () => {
    await writeFile(join(dir, 'audit-store-1.ndjson'), 'keep me\n');
    await writeFile(join(dir, 'audit-store-7.ndjson'), 'keep me too\n');
    const one = batchNdjson(makeBatch({ n: 2 })).length;
    // The existing active file counts towards the limit: the sink measures it when it opens it.
    await writeFile(join(dir, 'audit-store.ndjson'), 'x'.repeat(one));
    const sink = createFileSink(dir, ctx, { rotateBytes: one * 2 - 1 });
    await sink.send(makeBatch({ n: 2 }));
    await sink.send(makeBatch({ n: 2, first: 2 }));
    await sink.close();
    expect(await readFile(join(dir, 'audit-store-1.ndjson'), 'utf8')).toBe('keep me\n');
    expect(await readFile(join(dir, 'audit-store-7.ndjson'), 'utf8')).toBe('keep me too\n');
    expect(await readFile(join(dir, 'audit-store-8.ndjson'), 'utf8')).toBe('x'.repeat(one));
    expect((await readFile(join(dir, 'audit-store-9.ndjson'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l).seq)).toEqual([0, 1]);
    expect((await readFile(join(dir, 'audit-store.ndjson'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l).seq)).toEqual([2, 3]);
  });

  // A batch is written 256 KiB at a time while it surely fits. Its size is known only once it is rendered, so a
  // batch whose markers make it far larger than its estimate is found not to fit while it is written: it is cut
  // off again and the file rotates before it, as if its size had been known.
  const bigMarkers = (i: number, n: number) =>
    Array.from({ length: n }, (_, k) => objectEvent({ kind: 'Event', seq: i * 100 + k }, 1_700_000_000, { note: 'm'.repeat(100_000) }));

  test('a multi-piece batch is the same bytes as batchNdjson', async () => {
    const big = makeBatch({ events: bigMarkers(0, 12) }); // ~1.2 MB: five pieces
    const sink = createFileSink(dir, ctx);
    await sink.send(makeBatch({ n: 2 }));
    await sink.send(big);
    await sink.close();
    expect(await readFile(join(dir, 'audit-store.ndjson'), 'utf8')).toBe(batchNdjson(makeBatch({ n: 2 })) + batchNdjson(big));
  });

  test.each([
    ['before its first piece', 200 * 1024],
    ['after pieces were written', 700 * 1024],
  ])('a batch far over its estimate rotates the file %s, and no file passes the limit', async (_what, limit) => {
    const small = makeBatch({ n: 2 });
    const big = makeBatch({ events: bigMarkers(1, 8) }); // ~800 KB, estimated at a few KB
    const sink = createFileSink(dir, ctx, { rotateBytes: limit });
    await sink.send(small);
    await sink.send(big);
    await sink.close();
    expect((await readdir(dir)).sort()).toEqual(['audit-store-1.ndjson', 'audit-store.ndjson']);
    expect(await readFile(join(dir, 'audit-store-1.ndjson'), 'utf8')).toBe(batchNdjson(small));
    expect(await readFile(join(dir, 'audit-store.ndjson'), 'utf8')).toBe(batchNdjson(big));
  });

  test('a batch larger than the limit is written whole into a file of its own', async () => {
    const sink = createFileSink(dir, ctx, { rotateBytes: 50 });
    await sink.send(makeBatch({ n: 3 }));
    await sink.send(makeBatch({ n: 3, first: 3 }));
    await sink.close();
    expect((await readdir(dir)).sort()).toEqual(['audit-store-1.ndjson', 'audit-store.ndjson']);
    expect((await readFile(join(dir, 'audit-store.ndjson'), 'utf8')).trimEnd().split('\n')).toHaveLength(3);
  });
});

describe('file sink durability and errors', () => {
  test('acknowledges only after fdatasync returned', async () => {
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const gate = deferred();
    const real = proto.datasync;
    const spy = vi.spyOn(proto, 'datasync').mockImplementation(async function (this: unknown) {
      await gate.promise;
      return real.call(this);
    });
    const sink = createFileSink(dir, ctx);
    let acked = false;
    const sent = sink.send(makeBatch({ n: 1 })).then(() => (acked = true));
    await vi.waitFor(() => expect(spy).toHaveBeenCalledTimes(1));
    // The data is written (one write per batch) but not acknowledged while fdatasync is pending.
    expect((await readFile(join(dir, 'audit-store.ndjson'), 'utf8')).split('\n')).toHaveLength(2);
    expect(acked).toBe(false);
    gate.resolve();
    await sent;
    expect(acked).toBe(true);
    await sink.close();
  });

  test('one write call per batch', async () => {
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { write: (...a: unknown[]) => Promise<unknown> };
    await probe.close();
    const spy = vi.spyOn(proto, 'write');
    const sink = createFileSink(dir, ctx);
    await sink.send(makeBatch({ n: 50 }));
    await sink.send(makeBatch({ n: 50, first: 50 }));
    await sink.close();
    expect(spy).toHaveBeenCalledTimes(2);
  });

  test('a full disk is a retryable SinkError naming the file and ENOSPC, and the sink keeps working', async () => {
    await mkdir(join(dir, 'out'));
    await symlink('/dev/full', join(dir, 'out', 'audit-store.ndjson'));
    const sink = createFileSink(join(dir, 'out'), ctx);
    const err = await sink.send(makeBatch({ n: 2 })).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SinkError);
    expect((err as SinkError).kind).toBe('retryable');
    expect((err as SinkError).code).toBe(ErrorCodes.SINK_DISK_FULL);
    expect((err as SinkError).storeCode).toBe('ENOSPC');
    expect((err as SinkError).fix).toBeTruthy();
    // Other logstores are unaffected.
    await sink.send(makeBatch({ n: 1, logstore: 'fine' }));
    expect(await readFile(join(dir, 'out', 'fine.ndjson'), 'utf8')).toContain('"seq":0');
    await sink.close();
  });

  test('an unwritable directory is a retryable SinkError that names it; the retry succeeds once it is fixed', async () => {
    const blocker = join(dir, 'not-a-dir');
    await writeFile(blocker, '');
    const sink = createFileSink(join(blocker, 'out'), ctx);
    const err = (await sink.send(makeBatch()).catch((e: unknown) => e)) as SinkError;
    expect(err.kind).toBe('retryable');
    expect(err.code).toBe(ErrorCodes.SINK_IO);
    expect(err.storeCode).toBe('ENOTDIR');
    const { rm } = await import('node:fs/promises');
    await rm(blocker);
    await sink.send(makeBatch());
    expect((await readFile(join(blocker, 'out', 'audit-store.ndjson'), 'utf8')).split('\n')).toHaveLength(4);
    await sink.close();
  });
});
