import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';

/** How many leading bytes identify a file's content (Filebeat and LoongCollector use 1 KiB too). */
export const FINGERPRINT_BYTES = 1024;

/**
 * A file's content identity: the hash of its first `len` bytes (decompressed for `.gz`). It grows with the file
 * until it covers FINGERPRINT_BYTES, so an empty new file and the same file later are recognised as one.
 */
export interface Fingerprint {
  len: number;
  hash: string;
}

export function fingerprintOf(head: Buffer, len = Math.min(head.length, FINGERPRINT_BYTES)): Fingerprint {
  return { len, hash: createHash('sha256').update(head.subarray(0, len)).digest('base64url').slice(0, 22) };
}

/** Something positioned reads can be made on (a FileHandle, or a test's in-memory file). */
export interface ReadAt {
  read(buf: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
}

/** Reads up to `len` bytes from the start of an open plain file. */
export async function readHead(fh: ReadAt, len = FINGERPRINT_BYTES): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(buf, got, len - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/** Reads up to `len` decompressed bytes from the start of a gzip file; a `.gz` still being written is fine. */
export async function readGzipHead(file: string, len = FINGERPRINT_BYTES): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let got = 0;
    const src = createReadStream(file);
    const gunzip = createGunzip();
    const finish = (): void => {
      src.destroy();
      gunzip.destroy();
      resolve(Buffer.concat(parts).subarray(0, len));
    };
    gunzip.on('data', (chunk: Buffer) => {
      parts.push(chunk);
      got += chunk.length;
      if (got >= len) finish();
    });
    // An incomplete or corrupt member still yields what was decompressed so far.
    gunzip.on('error', finish);
    gunzip.on('end', finish);
    src.on('error', finish);
    src.pipe(gunzip);
  });
}

/** True when `head` (the file's first bytes now) still starts with the content `fp` was taken from. */
export function matchesHead(fp: Fingerprint, head: Buffer): boolean {
  if (head.length < fp.len) return false;
  return fingerprintOf(head, fp.len).hash === fp.hash;
}
