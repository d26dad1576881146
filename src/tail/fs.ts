import { open, readdir, stat } from 'node:fs/promises';
import { readGzipHead } from '../identity/fingerprint.js';
import { gzipSource, type GzipSource } from './chunk-source.js';

/** What the tailer needs to know of a file: its identity on disk and its size. */
export interface FileStat {
  dev: number;
  ino: number;
  size: number;
}

/** A held file descriptor: keeps reading the same content after a rename or unlink. */
export interface TailFile {
  stat(): Promise<FileStat>;
  read(buf: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

/**
 * The file system as the tailer sees it. The agent passes `nodeFs`; the model-based test passes an in-memory one,
 * so that thousands of rotation sequences run in seconds and every byte can be accounted for.
 */
export interface TailFs {
  readdir(dir: string): Promise<string[]>;
  stat(file: string): Promise<FileStat>;
  open(file: string): Promise<TailFile>;
  /** Up to the first FINGERPRINT_BYTES decompressed bytes of a `.gz` (what exists of it so far). */
  gzipHead(file: string): Promise<Buffer>;
  gzipSource(file: string, start: number): GzipSource;
}

export const nodeFs: TailFs = {
  readdir: (dir) => readdir(dir),
  stat: (file) => stat(file),
  open: openRegular,
  gzipHead: (file) => readGzipHead(file),
  gzipSource,
};

/**
 * Opens a file to tail; a directory (or a device, a socket) at an input's path is refused with EISDIR here, at
 * open, so that it is one input's "cannot open" and never a read error out of the poll (issue 10 item 1).
 */
async function openRegular(file: string): Promise<TailFile> {
  const fh = await open(file, 'r');
  const st = await fh.stat().catch(async (e: Error) => {
    await fh.close().catch(() => undefined);
    throw e;
  });
  if (!st.isFile()) {
    await fh.close().catch(() => undefined);
    throw Object.assign(new Error(`EISDIR: not a regular file (${st.isDirectory() ? 'a directory' : 'not a file'}), open '${file}'`), { code: 'EISDIR' });
  }
  return fh;
}
