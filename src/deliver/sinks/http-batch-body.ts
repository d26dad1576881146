// The request body of the http sink: SPEC §3's batch JSON (or a ?format= / ?schema= rendering), gzipped.
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Batch } from '../../batch/batch.js';
import type { takeHttpRender } from '../render-http.js';
import { BodyWriter, LOG_OVERHEAD_BYTES, markersJson, renderLog, writeLog } from '../render.js';
import { createSlots } from '../slots.js';

const gzipAsync = promisify(gzip);

/**
 * Output piece of the async gzip: each piece is one round trip from the zlib thread to the event loop, so
 * zlib's 16 KiB default makes ~25 of them for a 3 MB batch; 256 KiB makes 1-2 (main-thread time 3x lower).
 */
const GZIP_CHUNK_BYTES = 256 * 1024;
/**
 * Bodies rendered and compressed at once, across the process. Each holds its whole JSON (a batch's size) until
 * gzip is done, and with the deliverer's 4 sends in flight all 4 were held together (peak external memory of a
 * backlog ~27 MiB); two compressions at once already keep both cores of a small node busy.
 */
const compressing = createSlots(2);

/** The request body of one batch: the rendered or default JSON, gzipped at `gzipLevel` (0: not). */
export async function requestBody(batch: Batch, render: ReturnType<typeof takeHttpRender>, gzipLevel: number): Promise<Buffer> {
  if (gzipLevel > 0) {
    await compressing.acquire();
    // The JSON is only read by zlib: its buffer is reused by the next batch as soon as gzip is done.
    let json: BodyWriter | undefined;
    try {
      json = render ? render.writer(batch) : httpBatchBodyWriter(batch);
      return await gzipAsync(json.bytes(), { level: gzipLevel, chunkSize: GZIP_CHUNK_BYTES });
    } finally {
      json?.release();
      compressing.release();
    }
  }
  return render ? render.writer(batch).bytes() : httpBatchBodyBytes(batch); // undici may read it until the request is done: left to the GC
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
  return httpBatchBodyWriter(batch).bytes();
}

function httpBatchBodyWriter(batch: Batch): BodyWriter {
  const head = httpBatchHead(batch);
  const w = new BodyWriter(head.length + batch.rawBytes + batch.events.length * LOG_OVERHEAD_BYTES + 16);
  w.write(head);
  const events = batch.events;
  for (let i = 0; i < events.length; i++) {
    if (i > 0) w.write(',');
    const e = events[i]!;
    writeLog(w, e, e.markers ? markersJson(e.markers) : undefined);
  }
  w.write(']}');
  return w;
}
