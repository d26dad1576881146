// The legacy join's held request lines and their pending file in the state dir (the format and why it is safe:
// legacy-join.ts). This module is the only owner of both: the map of held lines and the file that mirrors it.
import { closeSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import { parseLegacyLine, type LegacyLine } from '../parse/legacy.js';

const COMPACT_BYTES = 1 << 20;

export interface Held {
  raw: string;
  line: LegacyLine;
  /** Unix ms of the line's time. */
  at: number;
}

interface Removal {
  id: string;
  raw: string;
  stream: string;
  offset: number;
}

export interface PendingLines {
  /** Held request lines by id, in the order they were held. */
  readonly held: ReadonlyMap<string, Held>;
  /** Holds a request line; on disk (fdatasync'd) when this returns, before its bytes can be acknowledged. */
  hold(id: string, h: Held): void;
  /** Releases a held line; its removal names the stream and offset of the line whose batch ships it. */
  release(id: string, stream: string, offset: number): Held;
  /** Rewrites the file once it has grown past 1 MiB. */
  compactIfLarge(): void;
}

/** Loads the held lines of `file` (a restart's), compacting it, and keeps them and the file in step from then on. */
export function openPendingLines(file: string, committed: () => Map<string, number>): PendingLines {
  let removals: Removal[] = [];
  let fd = -1;
  let written = 0;
  const { held, text } = loadHeld(file, committed);

  const rewrite = (): void => {
    const body = [...[...held.values()].map((h) => `+${JSON.stringify(h.raw)}\n`), ...removals.map((r) => `+${JSON.stringify(r.raw)}\n-${JSON.stringify(r)}\n`)].join('');
    writeAtomically(file, body);
    if (fd >= 0) closeSync(fd);
    fd = openSync(file, 'a', 0o600);
    written = Buffer.byteLength(body);
  };
  const append = (text: string, sync: boolean): void => {
    if (fd < 0) rewrite();
    written += writeSync(fd, text);
    if (sync) fdatasyncSync(fd);
  };
  if (text !== '') rewrite(); // compacted: what the restart resolved is gone

  return {
    held,
    hold(id, h) {
      held.set(id, h);
      append(`+${JSON.stringify(h.raw)}\n`, true);
    },
    release(id, stream, offset) {
      const h = held.get(id)!;
      held.delete(id);
      const r: Removal = { id, raw: h.raw, stream, offset };
      removals.push(r);
      append(`-${JSON.stringify(r)}\n`, false);
      return h;
    },
    compactIfLarge() {
      if (written <= COMPACT_BYTES) return;
      // Keeps what a restart would still need: held lines, and removals the checkpoint on disk is not past yet.
      const offsets = committed();
      removals = removals.filter((r) => (offsets.get(r.stream) ?? Infinity) <= r.offset);
      rewrite();
    },
  };
}

/** A legacy line as held: parsed, with its time; undefined when it is not a legacy line. */
function heldLine(raw: string): Held | undefined {
  const line = parseLegacyLine(raw);
  return line && !('error' in line) ? { raw, line, at: line.sec * 1000 + line.ns / 1e6 } : undefined;
}

/** The held lines a restart still needs: every add, less the removals the checkpoint is past. */
function loadHeld(file: string, committed: () => Map<string, number>): { held: Map<string, Held>; text: string } {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const adds = new Map<string, string>();
  const removed = new Map<string, Removal>();
  for (const rec of text.split('\n')) {
    try {
      if (rec.startsWith('+')) {
        const raw = JSON.parse(rec.slice(1)) as string;
        const h = heldLine(raw);
        if (h) adds.set(h.line.fields.get('id')!, raw);
      } else if (rec.startsWith('-')) {
        const r = JSON.parse(rec.slice(1)) as Removal;
        removed.set(r.id, r);
      }
    } catch {
      // a torn last record (crash mid-write): an add that was never fsync'd, so never acknowledged
    }
  }
  const offsets = removed.size > 0 ? committed() : new Map<string, number>();
  const held = new Map<string, Held>();
  for (const [id, raw] of adds) {
    const r = removed.get(id);
    // A stream no longer in the checkpoint was read to its end and forgotten: its removals are final.
    if (r && (offsets.get(r.stream) ?? Infinity) > r.offset) continue;
    held.set(id, heldLine(raw)!);
  }
  return { held, text };
}

/** `body` as `file`, whole or not at all: written to a temporary file, fsync'd, renamed over it. */
function writeAtomically(file: string, body: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  const t = openSync(tmp, 'w', 0o600);
  try {
    writeSync(t, body);
    fsyncSync(t);
  } finally {
    closeSync(t);
  }
  renameSync(tmp, file);
}
