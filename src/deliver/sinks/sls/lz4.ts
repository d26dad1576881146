import { createRequire } from 'node:module';

/**
 * lz4js allocates ~5 MiB of typed arrays when it is loaded: only a process with an SLS sink that compresses
 * loads it (on the first block), not every agent.
 */
type Lz4js = { compressBound(n: number): number; compressBlock(src: Uint8Array, dst: Uint8Array, at: number, end: number, table: Uint32Array): number };
let lz4jsModule: Lz4js | undefined;
const lz4js = (): Lz4js => (lz4jsModule ??= createRequire(import.meta.url)('lz4js') as Lz4js);

/**
 * Raw LZ4 block (no frame, no size prefix), what SLS expects with `x-log-compresstype: lz4`
 * (research/logtail-sls.md §3.3). The raw size travels in `x-log-bodyrawsize`.
 *
 * lz4js's compressBlock may start a match up to 10 bytes before the end of its input, but the block format
 * requires the last match to start at least 12 bytes before the end, and the reference decoder
 * (LZ4_decompress_safe with the exact output size, as a server that knows the raw size calls it) rejects such
 * blocks. So the last 2 bytes are kept out of lz4js's input and appended to the final literal run here.
 */

let hashTable: Uint32Array | undefined; // 256 KiB, made with the first block
/** Bytes kept out of lz4js's input: moves its last possible match start from end-10 to end-12. */
const TAIL = 2;
/** lz4js compresses nothing below 13 bytes. */
const MIN_INPUT = 13 + TAIL;

export function lz4CompressBlock(src: Uint8Array): Buffer {
  const n = src.length;
  const dst = Buffer.allocUnsafe(lz4js().compressBound(n) + 16);
  let size = 0;
  if (n >= MIN_INPUT) {
    // lz4js trusts the table only through a content check, but stale positions cost matches: start clean.
    const table = (hashTable ??= new Uint32Array(1 << 16));
    table.fill(0);
    size = lz4js().compressBlock(src, dst, 0, n - TAIL, table);
  }
  if (size === 0 || size >= literalRunSize(n)) {
    // Incompressible (lz4js returns 0 when it found no match): one literal-only sequence is a valid block.
    return dst.subarray(0, writeLiteralRun(dst, 0, src, 0, n));
  }
  // Walk the sequences to the last one (a literal run with no match) and rewrite it to cover the tail.
  let ip = 0;
  for (;;) {
    const tokenPos = ip;
    const token = dst[ip++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        b = dst[ip++]!;
        literals += b;
      } while (b === 255);
    }
    ip += literals;
    if (ip >= size) {
      const anchor = n - TAIL - literals;
      return dst.subarray(0, writeLiteralRun(dst, tokenPos, src, anchor, n));
    }
    ip += 2; // match offset
    if ((token & 15) === 15) {
      let b: number;
      do b = dst[ip++]!;
      while (b === 255);
    }
  }
}

function literalRunSize(count: number): number {
  return 1 + (count >= 15 ? Math.floor((count - 15) / 255) + 1 : 0) + count;
}

/** Writes a final sequence of src[from, to) literals at dst[at]; returns the end index. */
function writeLiteralRun(dst: Uint8Array, at: number, src: Uint8Array, from: number, to: number): number {
  let count = to - from;
  if (count >= 15) {
    dst[at++] = 15 << 4;
    for (count -= 15; count >= 255; count -= 255) dst[at++] = 255;
    dst[at++] = count;
  } else {
    dst[at++] = count << 4;
  }
  dst.set(src.subarray(from, to), at);
  return at + (to - from);
}
