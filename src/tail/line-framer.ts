import { isUtf8 } from 'node:buffer';
import type { RawLine } from '../parse/raw-line.js';

export type { RawLine };

const NL = 0x0a;

/**
 * Splits chunks of a file into lines. Chunks may be reused by the caller after `push` returns: everything kept
 * across calls is copied. Never holds more than `maxLineBytes` of one line: past that, the line's first
 * `maxLineBytes` are kept (cut at a UTF-8 character boundary) and the rest is skipped up to its newline.
 */
export class LineFramer {
  readonly #max: number;
  #carry: Buffer[] = [];
  #carryLen = 0;
  /** File offset where the current (incomplete) line starts. */
  #lineStart: number;
  /** Set while skipping the rest of an over-long line: the text already cut from it. */
  #cutText: string | undefined;
  #cutBad = false;

  constructor(startOffset: number, maxLineBytes: number) {
    this.#lineStart = startOffset;
    this.#max = maxLineBytes;
  }

  /** Offset of the first byte not yet framed into a complete line. */
  get pendingStart(): number {
    return this.#lineStart;
  }

  /** Bytes held for an incomplete line. */
  get pendingBytes(): number {
    return this.#carryLen;
  }

  /** Frames `chunk`, which starts at file offset `offset`; calls `emit` for every complete line. */
  push(chunk: Buffer, offset: number, emit: (line: RawLine) => void): void {
    let pos = 0;
    for (;;) {
      const nl = chunk.indexOf(NL, pos);
      if (nl === -1) {
        this.#hold(chunk, pos, chunk.length);
        return;
      }
      const end = offset + nl + 1;
      if (this.#cutText !== undefined) {
        emit(this.#cutLine(end));
        this.#cutText = undefined;
      } else if (this.#carryLen + (nl - pos) > this.#max) {
        this.#hold(chunk, pos, nl); // cuts, since it is over the limit
        emit(this.#cutLine(end));
        this.#cutText = undefined;
      } else if (this.#carryLen === 0) {
        // A string of its own per line: it dies once the batcher copied the event (batch/event-arena.ts)
        emit(decoded(this.#lineStart, end, chunk, pos, nl));
      } else {
        this.#carry.push(chunk.subarray(pos, nl));
        const whole = Buffer.concat(this.#carry, this.#carryLen + (nl - pos));
        emit(decoded(this.#lineStart, end, whole, 0, whole.length));
      }
      this.#carry = [];
      this.#carryLen = 0;
      this.#lineStart = end;
      pos = nl + 1;
    }
  }

  /**
   * The incomplete last line of a file that will never grow again (a rotated backup without a final newline),
   * or undefined when nothing is pending.
   */
  flush(endOffset: number): RawLine | undefined {
    if (this.#carryLen === 0 && this.#cutText === undefined) return undefined;
    const line = this.#cutText !== undefined ? this.#cutLine(endOffset) : decoded(this.#lineStart, endOffset, Buffer.concat(this.#carry, this.#carryLen), 0, this.#carryLen);
    this.#carry = [];
    this.#carryLen = 0;
    this.#cutText = undefined;
    this.#lineStart = endOffset;
    return line;
  }

  #cutLine(end: number): RawLine {
    const line: RawLine = { start: this.#lineStart, end, text: this.#cutText!, truncated: true };
    if (this.#cutBad) line.invalidUtf8 = true;
    this.#cutText = undefined;
    this.#cutBad = false;
    return line;
  }

  #hold(chunk: Buffer, from: number, to: number): void {
    if (this.#cutText !== undefined || from === to) return;
    const room = this.#max - this.#carryLen;
    if (to - from <= room) {
      this.#carry.push(Buffer.from(chunk.subarray(from, to)));
      this.#carryLen += to - from;
      return;
    }
    this.#carry.push(chunk.subarray(from, from + room));
    const whole = Buffer.concat(this.#carry, this.#max);
    const cut = utf8Boundary(whole, this.#max);
    this.#cutText = decode(whole, 0, cut);
    this.#cutBad = invalidUtf8(this.#cutText, whole, 0, cut);
    this.#carry = [];
    this.#carryLen = 0;
  }
}

/** The end of a line's content: a CRLF line's `\r` is not part of it. */
function withoutCr(buf: Buffer, from: number, to: number): number {
  return to > from && buf[to - 1] === 0x0d ? to - 1 : to;
}

/** Length of `buf` without a trailing incomplete UTF-8 character (a cut must not split one). */
function utf8Boundary(buf: Buffer, len: number): number {
  for (let i = len - 1; i >= 0 && i >= len - 4; i--) {
    const b = buf[i]!;
    if (b >> 6 === 0b10) continue; // continuation byte: keep looking for the lead byte
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return i + need > len ? i : len;
  }
  return len;
}

function decode(buf: Buffer, from: number, to: number): string {
  return buf.toString('utf8', from, withoutCr(buf, from, to));
}

/** A complete line; `invalidUtf8` when its bytes were not UTF-8 (decoding replaced them by U+FFFD). */
function decoded(start: number, end: number, buf: Buffer, from: number, to: number): RawLine {
  const text = decode(buf, from, to);
  const line: RawLine = { start, end, text, truncated: false };
  if (invalidUtf8(text, buf, from, to)) line.invalidUtf8 = true;
  return line;
}

/** Cheap: the bytes are validated only when the text holds U+FFFD (which valid UTF-8 may also encode). */
function invalidUtf8(text: string, buf: Buffer, from: number, to: number): boolean {
  return text.includes('\uFFFD') && !isUtf8(buf.subarray(from, to));
}
