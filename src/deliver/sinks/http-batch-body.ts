// The request body of the http sink: SPEC §3's batch JSON (or a ?format= / ?schema= rendering), gzipped.
import type { Batch } from '../../batch/batch.js';
import { gzipRendered, renderWhole, type BodyRender } from '../body-render.js';
import type { takeHttpRender } from '../render-http.js';
import { LOG_OVERHEAD_BYTES, markersJson, renderLog, writeLogInSlices } from '../render.js';
import { createSlots } from '../slots.js';

/**
 * Output piece of the gzip stream: each piece is one round trip from the zlib thread to the event loop, so
 * zlib's 16 KiB default makes ~25 of them for a 3 MB batch; 256 KiB makes 1-2 (main-thread time 3x lower).
 */
const GZIP_CHUNK_BYTES = 256 * 1024;
/** Bodies compressed at once, across the process: two already keep both cores of a small node busy. */
const compressing = createSlots(2);

/** The request body of one batch: the rendered or default JSON, gzipped at `gzipLevel` (0: not). */
export async function requestBody(batch: Batch, render: ReturnType<typeof takeHttpRender>, gzipLevel: number): Promise<Buffer> {
  const body = render?.body ?? HTTP_BATCH_BODY;
  if (gzipLevel > 0) {
    await compressing.acquire();
    try {
      return await gzipRendered(body, batch, gzipLevel, GZIP_CHUNK_BYTES);
    } finally {
      compressing.release();
    }
  }
  return renderWhole(body, batch).bytes(); // undici may read it until the request is done: left to the GC
}

/** The HTTP batch body of SPEC §3. `project` and `product` are left out when the input has none. */
export function httpBatchBody(batch: Batch): string {
  const head = httpBatchHead(batch);
  const logs = batch.events.map((e) => renderLog(e, e.markers ? JSON.stringify(e.markers) : undefined));
  return `${head}${logs.join(',')}]}`;
}

/** The body up to the first log: `{"logstore":…,"project":…,"product":…,"source":…,"tags":{…},"logs":[`. */
function httpBatchHead(batch: Batch): string {
  let head = `{"logstore":${JSON.stringify(batch.logstore)}`;
  if (batch.project !== undefined) head += `,"project":${JSON.stringify(batch.project)}`;
  if (batch.product !== undefined) head += `,"product":${JSON.stringify(batch.product)}`;
  head += `,"source":${JSON.stringify(batch.source)},"tags":${JSON.stringify(batch.tags)},"logs":[`;
  return head;
}

/** The bytes of `httpBatchBody(batch)`, encoded straight into one buffer (the hot path: no joined string). */
export function httpBatchBodyBytes(batch: Batch): Buffer {
  return renderWhole(HTTP_BATCH_BODY, batch).bytes();
}

const HTTP_BATCH_BODY: BodyRender = {
  sizeHint: (batch) => httpBatchHead(batch).length + batch.rawBytes + batch.events.length * LOG_OVERHEAD_BYTES + 16,
  *write(batch, w) {
    w.write(httpBatchHead(batch));
    const events = batch.events;
    for (let i = 0; i < events.length; i++) {
      if (i > 0) w.write(',');
      const e = events[i]!;
      const tag = e.markers ? markersJson(e.markers) : undefined;
      const slices = writeLogInSlices(w, e, tag);
      if (slices) yield* slices;
      yield;
    }
    w.write(']}');
  },
};
