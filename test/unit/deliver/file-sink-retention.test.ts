// Item 15 of issue 10: the default file store on a control-plane node kept a second copy of the audit log with no
// bound. `file:DIR?max-files=N&max-bytes=N` (default 5 files of 100 MiB per logstore) deletes the oldest.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSink } from '../../../src/deliver/create-sink.js';
import { createFileSink, DEFAULT_MAX_FILES, DEFAULT_ROTATE_BYTES, parseFileSinkParams } from '../../../src/deliver/sinks/file-sink.js';
import { batchNdjson } from '../../../src/deliver/ndjson.js';
import { silentLogger } from '../../../src/observe/log.js';
import { createMetrics } from '../../../src/observe/metrics.js';
import { makeBatch, tempDir } from './support.js';

const ctx = { logger: silentLogger() };

describe('item 15: file sink retention', () => {
  it('item 15: keeps at most max-files files per logstore (active included), deleting the oldest', async () => {
    const { dir } = await tempDir();
    const one = batchNdjson(makeBatch({ n: 2 })).length;
    const sink = createFileSink(dir, ctx, { rotateBytes: one, maxFiles: 3 });
    for (let i = 0; i < 8; i++) await sink.send(makeBatch({ n: 2, first: i * 2 }));
    await sink.close();
    expect((await readdir(dir)).sort()).toEqual(['audit-store-6.ndjson', 'audit-store-7.ndjson', 'audit-store.ndjson']);
    // What is kept is the newest: the last three batches, in order.
    const seqs: number[] = [];
    for (const f of ['audit-store-6.ndjson', 'audit-store-7.ndjson', 'audit-store.ndjson']) {
      seqs.push(...(await readFile(join(dir, f), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l).seq as number));
    }
    expect(seqs).toEqual([10, 11, 12, 13, 14, 15]);
  });

  it('item 15: defaults are 5 files of 100 MiB; max-files=0 keeps every file', async () => {
    expect([DEFAULT_MAX_FILES, DEFAULT_ROTATE_BYTES]).toEqual([5, 100 * 1024 * 1024]);
    const { dir } = await tempDir();
    const one = batchNdjson(makeBatch({ n: 1 })).length;
    const sink = createFileSink(dir, ctx, { rotateBytes: one, maxFiles: 0 });
    for (let i = 0; i < 8; i++) await sink.send(makeBatch({ n: 1, first: i }));
    await sink.close();
    expect(await readdir(dir)).toHaveLength(8);
  });

  it('item 15: the URI takes ?max-files= and ?max-bytes= (K/M/G) and refuses anything else', async () => {
    expect(parseFileSinkParams('max-files=3&max-bytes=10M')).toEqual({ maxFiles: 3, rotateBytes: 10 * 1024 * 1024 });
    expect(() => parseFileSinkParams('max-files=-1')).toThrow(/max-files/);
    expect(() => parseFileSinkParams('max-bytes=0')).toThrow(/max-bytes/);
    expect(() => parseFileSinkParams('maxfiles=3')).toThrow(/unknown file sink parameter/);
    const { dir } = await tempDir();
    const sink = createSink(`file:${dir}?max-files=2&max-bytes=1`, { logger: silentLogger(), metrics: createMetrics(), env: {}, stateDir: dir });
    for (let i = 0; i < 4; i++) await sink.send(makeBatch({ n: 1, first: i }));
    await sink.close();
    expect((await readdir(dir)).sort()).toEqual(['audit-store-3.ndjson', 'audit-store.ndjson']);
  });
});
