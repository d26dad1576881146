// The gzip path renders a body a piece at a time: what arrives after gunzip must be the whole body, byte for byte.
import { gunzipSync } from 'node:zlib';
import { expect, test } from 'vitest';
import type { Batch } from '../../../src/batch/batch.js';
import { gzipRendered, PIECE_BYTES, renderWhole, type BodyRender } from '../../../src/deliver/body-render.js';
import { batchNdjson, batchNdjsonBytes } from '../../../src/deliver/ndjson.js';
import { BodyWriter, SLICE_CHARS } from '../../../src/deliver/render.js';
import { EVENTLIST_BODY } from '../../../src/deliver/render-http.js';
import { httpBatchBody, httpBatchBodyBytes, requestBody } from '../../../src/deliver/sinks/http-batch-body.js';

function batchOf(sizes: number[]): Batch {
  const events = sizes.map((n, i) => {
    const raw = JSON.stringify({ kind: 'Event', auditID: `id-${i}`, pad: 'x'.repeat(n), u: 'ü€😀' });
    return { raw, isObject: true, time: 1700000000 + i, timeNs: 0, markers: { __event_id__: 'a'.repeat(64) } };
  });
  const rawBytes = events.reduce((s, e) => s + Buffer.byteLength(e.raw), 0);
  return { events, rawBytes, logstore: 'audit', source: 'node-1', tags: { audit: 'apiserver' } } as unknown as Batch;
}

test('pieces of the default body gunzip to exactly the whole body: many small logs, one log over a piece, none', async () => {
  for (const sizes of [Array.from({ length: 3000 }, (_, i) => 200 + (i % 700)), [10, PIECE_BYTES * 3, 10], []]) {
    const batch = batchOf(sizes);
    const gz = await requestBody(batch, undefined, 3);
    expect(gunzipSync(gz).equals(httpBatchBodyBytes(batch))).toBe(true);
  }
});

test('an EventList body in pieces is the same bytes as rendered whole', async () => {
  const batch = batchOf(Array.from({ length: 500 }, () => 2000));
  const gz = await gzipRendered(EVENTLIST_BODY, batch, 1, 64 * 1024);
  expect(gunzipSync(gz).equals(renderWhole(EVENTLIST_BODY, batch).bytes())).toBe(true);
});

test('a render that throws midway rejects, and the next body is still right', async () => {
  const failing: BodyRender = {
    sizeHint: () => 10,
    *write(_b, w) {
      w.write('x'.repeat(PIECE_BYTES + 1));
      yield;
      throw new Error('render failed');
    },
  };
  await expect(gzipRendered(failing, batchOf([1]), 3, 16384)).rejects.toThrow('render failed');
  const batch = batchOf([100, 200]);
  expect(gunzipSync(await requestBody(batch, undefined, 3)).equals(httpBatchBodyBytes(batch))).toBe(true);
});

test('a released buffer is reused by the next writer, unless it is over what the releaser keeps', () => {
  const underlying = (w: BodyWriter): ArrayBufferLike => w.bytes().buffer;
  const a = new BodyWriter(256 * 1024);
  a.write('x');
  const kept = underlying(a);
  a.release();
  const b = new BodyWriter(256 * 1024);
  b.write('y');
  expect(underlying(b), 'a released buffer is handed to the next writer').toBe(kept);

  // a piece writer that grew for one huge log: released with its normal capacity as the limit, it is not kept
  b.write('z'.repeat(2 * 1024 * 1024));
  const grown = underlying(b);
  b.release(320 * 1024);
  // (as many writers as spares are kept, so that no other spare hides it)
  const next = [new BodyWriter(256 * 1024), new BodyWriter(256 * 1024), new BodyWriter(256 * 1024)];
  for (const w of next) w.write('w');
  expect(next.map(underlying)).not.toContain(grown);
  for (const w of next) w.release();
});

test('a writer takes the smallest spare that fits and none far larger than it asked for', () => {
  const big = new BodyWriter(4 * 1024 * 1024);
  big.write('b');
  const bigBuf = big.bytes().buffer;
  big.release();
  const piece = new BodyWriter(320 * 1024);
  piece.write('p');
  expect(piece.bytes().buffer, 'a 4 MiB whole-body buffer is not a piece buffer').not.toBe(bigBuf);
  piece.release();
  const body = new BodyWriter(3 * 1024 * 1024);
  body.write('w');
  expect(body.bytes().buffer, 'the next whole body reuses it').toBe(bigBuf);
  body.release();
});

test('a log over SLICE_CHARS is written in slices: the same bytes as the string renderer, surrogate pairs unbroken', async () => {
  // A pair straddling the first slice boundary of each (its high half the slice's last unit, if not moved back),
  // a content line and an event with its own __time__ (both rendered as one string first, then sliced).
  const at = (prefix: number) => 'x'.repeat(SLICE_CHARS - 1 - prefix) + '😀' + 'y'.repeat(SLICE_CHARS) + '😀ü';
  const events = [
    { raw: `{"a":"${at(6)}","b":1}  `, isObject: true },
    { raw: `${at(12)} not json`, isObject: false },
    { raw: `{"__time__":5,"p":"${at(6)}"}`, isObject: true },
    { raw: `{"kind":"Event","small":true}`, isObject: true },
  ].map((e, i) => ({ ...e, time: 1700000000 + i, timeNs: 0, markers: { __event_id__: 'b'.repeat(64) } }));
  const batch = { events, rawBytes: events.reduce((s, e) => s + Buffer.byteLength(e.raw), 0), logstore: 'audit', source: 'node-1', tags: { audit: 'apiserver' } } as unknown as Batch;
  const want = Buffer.from(httpBatchBody(batch));
  expect(gunzipSync(await requestBody(batch, undefined, 3)).equals(want)).toBe(true);
  expect(httpBatchBodyBytes(batch).equals(want)).toBe(true);
  expect(batchNdjsonBytes(batch).toString()).toBe(batchNdjson(batch));
});
