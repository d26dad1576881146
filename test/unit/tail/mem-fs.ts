// An in-memory file system for the tailer (src/tail/fs.ts TailFs): inodes that held fds keep alive after a
// rename or unlink, directories of names, and `.gz` files whose "compressed" content is stored decompressed
// (with a complete flag: lumberjack's mill creates the .gz before it finishes writing it).
import path from 'node:path';
import type { GzipSource } from '../../../src/tail/chunk-source.js';
import type { FileStat, TailFile, TailFs } from '../../../src/tail/fs.js';

interface Inode {
  ino: number;
  data: Buffer;
  gz: boolean;
  complete: boolean;
}

function enoent(p: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOENT: no such file or directory, '${p}'`), { code: 'ENOENT' });
}

export class MemFs implements TailFs {
  readonly dirs = new Map<string, Map<string, Inode>>();
  #nextIno = 100;
  /**
   * Called as each directory listing, stat, open and gzip head read starts: a test lands a writer's or the
   * mill's step between two of the tailer's observations (they are no snapshot of the directory).
   */
  beforeCall: ((op: 'readdir' | 'stat' | 'open' | 'gzipHead', p: string) => void) | undefined;

  mkdir(dir: string): void {
    if (!this.dirs.has(dir)) this.dirs.set(dir, new Map());
  }

  #lookup(p: string): Inode | undefined {
    return this.dirs.get(path.dirname(p))?.get(path.basename(p));
  }

  inode(p: string): Inode | undefined {
    return this.#lookup(p);
  }

  exists(p: string): boolean {
    return this.#lookup(p) !== undefined;
  }

  create(p: string, gz = false): Inode {
    const node: Inode = { ino: this.#nextIno++, data: Buffer.alloc(0), gz, complete: !gz };
    this.dirs.get(path.dirname(p))!.set(path.basename(p), node);
    return node;
  }

  append(p: string, bytes: Buffer): void {
    const node = this.#lookup(p) ?? this.create(p);
    node.data = Buffer.concat([node.data, bytes]);
  }

  rename(from: string, to: string): void {
    const node = this.#lookup(from)!;
    this.dirs.get(path.dirname(from))!.delete(path.basename(from));
    this.dirs.get(path.dirname(to))!.set(path.basename(to), node);
  }

  unlink(p: string): void {
    this.dirs.get(path.dirname(p))!.delete(path.basename(p));
  }

  truncate(p: string): void {
    this.#lookup(p)!.data = Buffer.alloc(0);
  }

  async readdir(dir: string): Promise<string[]> {
    this.beforeCall?.('readdir', dir);
    const d = this.dirs.get(dir);
    if (!d) throw enoent(dir);
    return [...d.keys()];
  }

  async stat(p: string): Promise<FileStat> {
    this.beforeCall?.('stat', p);
    const node = this.#lookup(p);
    if (!node) throw enoent(p);
    return { dev: 1, ino: node.ino, size: node.data.length };
  }

  async open(p: string): Promise<TailFile> {
    this.beforeCall?.('open', p);
    const node = this.#lookup(p);
    if (!node) throw enoent(p);
    return {
      stat: async () => ({ dev: 1, ino: node.ino, size: node.data.length }),
      read: async (buf, offset, length, position) => {
        const n = Math.max(0, Math.min(length, node.data.length - position));
        if (n > 0) node.data.copy(buf, offset, position, position + n);
        return { bytesRead: n };
      },
      close: async () => undefined,
    };
  }

  async gzipHead(p: string): Promise<Buffer> {
    this.beforeCall?.('gzipHead', p);
    return Buffer.from(this.#lookup(p)?.data.subarray(0, 1024) ?? Buffer.alloc(0));
  }

  gzipSource(p: string, start: number): GzipSource {
    let node: Inode | undefined;
    let opened = false;
    let position = 0;
    let complete = false;
    let error: Error | undefined;
    return {
      get position() {
        return Math.max(position, start);
      },
      get complete() {
        return complete;
      },
      get error() {
        return error;
      },
      read: async () => {
        if (!opened) {
          opened = true;
          node = this.#lookup(p);
          if (!node) error = enoent(p);
        }
        if (!node || complete || error) return null;
        const end = node.data.length;
        if (position >= end) {
          if (node.complete) complete = true;
          else error = new Error('unexpected end of file');
          return null;
        }
        const from = Math.max(position, start);
        position = end;
        if (from >= end) return this.#noMore(node, (c) => (complete = c), (e) => (error = e));
        return Buffer.from(node.data.subarray(from, end));
      },
      close: async () => undefined,
    };
  }

  #noMore(node: Inode, setComplete: (c: boolean) => void, setError: (e: Error) => void): null {
    if (node.complete) setComplete(true);
    else setError(new Error('unexpected end of file'));
    return null;
  }
}
