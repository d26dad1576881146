import { mkdir, open, type FileHandle } from 'node:fs/promises';

// Durable local writes, shared by the `file:` sink and the dead-letter spool: what is acknowledged is on disk.

/** Writes all of `data` at the file's position (short writes continued), then fdatasyncs. */
export async function writeAndSync(fh: FileHandle, data: Buffer): Promise<void> {
  await writeAll(fh, data);
  await fh.datasync();
}

/** Writes all of `data` at the file's position, continuing short writes. */
export async function writeAll(fh: FileHandle, data: Buffer): Promise<void> {
  let off = 0;
  while (off < data.length) off += (await fh.write(data, off, data.length - off)).bytesWritten;
}

/**
 * Appends `data` to `path` (mode 0600, in `dir`, created 0700) in one go and fdatasyncs; on a failed write cuts the
 * file back to where it was, so that no half record stays. The descriptor is closed before it resolves.
 */
export async function appendDurably(dir: string, path: string, data: Buffer): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const fh = await open(path, 'a', 0o600);
  try {
    const before = (await fh.stat()).size;
    try {
      await writeAndSync(fh, data);
    } catch (err) {
      await fh.truncate(before).catch(() => undefined);
      throw err;
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
}
