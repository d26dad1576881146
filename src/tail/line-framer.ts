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
        emit({ start: this.#lineStart, end, text: this.#cutText, truncated: true });
        this.#cutText = undefined;
      } else if (this.#carryLen + (nl - pos) > this.#max) {
        this.#hold(chunk, pos, nl); // cuts, since it is over the limit
        emit({ start: this.#lineStart, end, text: this.#cutText!, truncated: true });
        this.#cutText = undefined;
      } else if (this.#carryLen === 0) {
        emit({ start: this.#lineStart, end, text: decode(chunk, pos, nl), truncated: false });
      } else {
        this.#carry.push(chunk.subarray(pos, nl));
        const whole = Buffer.concat(this.#carry, this.#carryLen + (nl - pos));
        emit({ start: this.#lineStart, end, text: decode(whole, 0, whole.length), truncated: false });
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
    const truncated = this.#cutText !== undefined;
    const text = truncated ? this.#cutText! : decode(Buffer.concat(this.#carry, this.#carryLen), 0, this.#carryLen);
    const line = { start: this.#lineStart, end: endOffset, text, truncated };
    this.#carry = [];
    this.#carryLen = 0;
    this.#cutText = undefined;
    this.#lineStart = endOffset;
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
    this.#cutText = decode(whole, 0, utf8Boundary(whole, this.#max));
    this.#carry = [];
    this.#carryLen = 0;
  }
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
  if (to > from && buf[to - 1] === 0x0d) to--; // CRLF
  return buf.toString('utf8', from, to);
}
