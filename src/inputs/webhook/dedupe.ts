// A retried EventList ships no event twice: the keys (auditID + stage) of the events spooled lately, in a window
// bounded by count and age (the API server retries a batch for about 80 s; the window is far longer), persisted
// in `dedupe.keys` so that it holds across restarts.
//
// Keys are kept as 96-bit hashes (16 base64 characters) in two generations: a generation is retired whole when
// it is full or old, so memory stays bounded without per-key bookkeeping.
import { hash } from 'node:crypto';
import { closeSync, fdatasyncSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

export interface DedupeOptions {
  file: string;
  /** Keys remembered at most (default 200,000: ~12 MB of heap). */
  maxKeys?: number;
  /** Keys older than this are forgotten (default 1 h). */
  maxAgeMs?: number;
  now?: () => number;
}

export function keyHash(key: string): string {
  return hash('sha256', key, 'base64').slice(0, 16);
}

export class DedupeWindow {
  readonly #file: string;
  readonly #maxKeys: number;
  readonly #maxAge: number;
  readonly #now: () => number;
  #cur = new Set<string>();
  #curStart: number;
  #prev = new Set<string>();
  #prevStart = 0;
  #fd = -1;
  #fileKeys = 0;

  constructor(o: DedupeOptions) {
    this.#file = o.file;
    this.#maxKeys = o.maxKeys ?? 200_000;
    this.#maxAge = o.maxAgeMs ?? 3_600_000;
    this.#now = o.now ?? Date.now;
    this.#curStart = this.#now();
    this.#load();
  }

  get size(): number {
    return this.#cur.size + this.#prev.size;
  }

  has(h: string): boolean {
    return this.#cur.has(h) || this.#prev.has(h);
  }

  /** Remembers keys in memory now (so that a concurrent retry is caught); `persist` writes them later. */
  add(hashes: string[], at = this.#now()): void {
    for (const h of hashes) {
      this.#roll(at);
      this.#cur.add(h);
    }
  }

  /** Forgets keys whose events could not be spooled (the request is answered with an error, the client retries). */
  remove(hashes: string[]): void {
    for (const h of hashes) {
      this.#cur.delete(h);
      this.#prev.delete(h);
    }
  }

  /** Appends the keys of spooled events to the file (the spool itself is the truth: a lost line is found there). */
  persist(hashes: string[]): void {
    if (hashes.length === 0) return;
    if (this.#fd < 0) this.#fd = openSync(this.#file, 'a', 0o600);
    writeSync(this.#fd, `${Math.floor(this.#now() / 1000)} ${hashes.join(' ')}\n`);
    this.#fileKeys += hashes.length;
    if (this.#fileKeys > 2 * this.#maxKeys) this.#compact();
  }

  /** Durable before the spool files the keys came from are deleted. */
  sync(): void {
    if (this.#fd >= 0) fdatasyncSync(this.#fd);
  }

  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }

  #roll(at: number): void {
    if (this.#cur.size === 0) {
      this.#curStart = at;
      return;
    }
    if (this.#cur.size >= this.#maxKeys / 2 || at - this.#curStart > this.#maxAge / 2) {
      this.#prev = this.#cur;
      this.#prevStart = this.#curStart;
      this.#cur = new Set();
      this.#curStart = at;
    }
  }

  #load(): void {
    let text: string;
    try {
      text = readFileSync(this.#file, 'latin1');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    const cutoff = this.#now() - this.#maxAge;
    const end = text.lastIndexOf('\n'); // a torn last line is a group whose keys the spool scan recovers
    for (const line of text.slice(0, end + 1).split('\n')) {
      const parts = line.split(' ');
      const at = Number(parts[0]) * 1000;
      if (!(at >= cutoff)) continue;
      this.add(parts.slice(1).filter((p) => p.length === 16), at);
    }
    this.#compact();
  }

  /** Rewrites the file with the window only (atomic: temp file, fsync, rename). */
  #compact(): void {
    const tmp = `${this.#file}.tmp`;
    const lines: string[] = [];
    if (this.#prev.size > 0) lines.push(`${Math.floor(this.#prevStart / 1000)} ${[...this.#prev].join(' ')}\n`);
    if (this.#cur.size > 0) lines.push(`${Math.floor(this.#curStart / 1000)} ${[...this.#cur].join(' ')}\n`);
    const fd = openSync(tmp, 'w', 0o600);
    try {
      for (const l of lines) writeSync(fd, l);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.#file);
    this.close();
    this.#fileKeys = this.size;
  }
}
