// A request body rendered log by log, so that the gzip path never holds the whole JSON of a batch.
import { createGzip } from 'node:zlib';
import type { Batch } from '../batch/batch.js';
import { BodyWriter } from './render.js';

/** How one body shape is written: `write` writes into `w` and yields after each log (a point where the bytes
 *  written so far may be taken and `w` cleared); `sizeHint` sizes a writer for the whole body. */
export interface BodyRender {
  sizeHint(batch: Batch): number;
  write(batch: Batch, w: BodyWriter): Generator<void, void, void>;
}

/** The whole body in one writer (plain bodies, which undici sends as they are). */
export function renderWhole(render: BodyRender, batch: Batch): BodyWriter {
  const w = new BodyWriter(render.sizeHint(batch));
  for (const _ of render.write(batch, w));
  return w;
}

/**
 * Bytes handed to zlib at a time. The JSON of a 3 MiB batch used to be rendered whole before gzip, and two
 * compressions at once held two such buffers plus their spares (~14 MB of a backlog's peak); a piece at a
 * time holds 256 KiB per compression, and each piece is one round trip to the zlib thread (~14 per batch).
 */
export const PIECE_BYTES = 256 * 1024;
/** A piece writer's buffer: room for the piece and the log (or log slice, render.ts) that crosses its end. */
const PIECE_CAPACITY = PIECE_BYTES + (PIECE_BYTES >> 2);

/**
 * Renders `batch` a piece at a time through one reused writer: `take` gets each piece of PIECE_BYTES or more and
 * then the rest, and must be done with the bytes when it resolves. `take` answering false stops the render:
 * false is returned.
 */
export async function renderPieces(render: BodyRender, batch: Batch, take: (piece: Buffer) => Promise<boolean>): Promise<boolean> {
  const w = new BodyWriter(PIECE_CAPACITY);
  try {
    for (const _ of render.write(batch, w)) {
      if (w.length >= PIECE_BYTES) {
        if (!(await take(w.bytes()))) return false;
        w.clear();
      }
    }
    return w.length === 0 || (await take(w.bytes()));
  } finally {
    // A writer that grew for a huge log goes to GC: kept, it would be every later piece writer's buffer for good
    // (1 GiB with 2 MB events into gzip http: peak RSS median 105.5 -> 103.5 MB over 6 interleaved pairs).
    w.release(PIECE_CAPACITY);
  }
}

/** `render`'s body gzipped at `level`, fed to zlib a piece at a time. */
export async function gzipRendered(render: BodyRender, batch: Batch, level: number, chunkSize: number): Promise<Buffer> {
  const gz = createGzip({ level, chunkSize });
  const out: Buffer[] = [];
  gz.on('data', (c: Buffer) => out.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    gz.once('end', resolve);
    gz.once('error', reject);
  });
  ended.catch(() => undefined); // awaited below; an error before then must not be unhandled
  try {
    // zlib has read a piece once its write calls back: the buffer may be reused
    await renderPieces(render, batch, (piece) => feed(gz, piece).then(() => true));
    gz.end();
    await ended;
  } catch (e) {
    gz.destroy();
    throw e;
  }
  return out.length === 1 ? out[0]! : Buffer.concat(out);
}

function feed(gz: ReturnType<typeof createGzip>, piece: Buffer): Promise<void> {
  return new Promise((resolve, reject) => gz.write(piece, (err) => (err ? reject(err) : resolve())));
}
