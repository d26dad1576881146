import { describe, expect, test } from 'vitest';
import { LineFramer, type RawLine } from '../../../src/tail/line-framer.js';

function frame(chunks: Array<string | Buffer>, max = 1 << 20, start = 0): { lines: RawLine[]; framer: LineFramer } {
  const framer = new LineFramer(start, max);
  const lines: RawLine[] = [];
  let at = start;
  for (const c of chunks) {
    const b = typeof c === 'string' ? Buffer.from(c) : c;
    framer.push(b, at, (l) => lines.push(l));
    at += b.length;
  }
  return { lines, framer };
}

describe('LineFramer', () => {
  test('item 11: invalid UTF-8 is marked on the line (only then: a real U+FFFD is valid UTF-8)', () => {
    const bad = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]);
    const real = Buffer.from('{"a":"\uFFFD"}\n');
    const cutBad = Buffer.concat([Buffer.from([0xc3, 0x28]), Buffer.from('x'.repeat(20)), Buffer.from('\n')]);
    const { lines, framer } = frame([bad, real, cutBad, Buffer.from([0xe2, 0x82])], 8);
    expect(lines[0]!.invalidUtf8).toBe(true);
    expect(lines[0]!.text).toContain('\uFFFD');
    expect(lines[1]!.invalidUtf8).toBeUndefined();
    expect(lines[2]).toMatchObject({ truncated: true, invalidUtf8: true });
    expect(framer.flush(100)!.invalidUtf8).toBe(true);
  });

  test('exact offsets across chunk boundaries, partial line held', () => {
    const { lines, framer } = frame(['ab', 'c\nde', 'f\n\ngh']);
    expect(lines).toEqual([
      { start: 0, end: 4, text: 'abc', truncated: false },
      { start: 4, end: 8, text: 'def', truncated: false },
      { start: 8, end: 9, text: '', truncated: false },
    ]);
    expect(framer.pendingStart).toBe(9);
    expect(framer.pendingBytes).toBe(2);
    expect(framer.flush(11)).toEqual({ start: 9, end: 11, text: 'gh', truncated: false });
  });

  test('CRLF is tolerated, multibyte UTF-8 split across chunks survives', () => {
    const bytes = Buffer.from('héllo→wörld\r\n');
    const { lines } = frame([bytes.subarray(0, 2), bytes.subarray(2, 9), bytes.subarray(9)], 1 << 20, 100);
    expect(lines).toEqual([{ start: 100, end: 100 + bytes.length, text: 'héllo→wörld', truncated: false }]);
  });

  test('a reused chunk buffer does not corrupt a held partial line', () => {
    const framer = new LineFramer(0, 1024);
    const lines: RawLine[] = [];
    const scratch = Buffer.from('abc');
    framer.push(scratch, 0, (l) => lines.push(l));
    scratch.write('\nxy');
    framer.push(scratch, 3, (l) => lines.push(l));
    expect(lines.map((l) => l.text)).toEqual(['abc']);
  });

  test('an over-long line is cut to the limit at a character boundary and its end offset is exact', () => {
    const long = 'é'.repeat(10); // 20 bytes
    const { lines } = frame([long.slice(0, 3), long.slice(3) + '\nok\n'], 7);
    expect(lines[0]).toEqual({ start: 0, end: 21, text: 'ééé', truncated: true });
    expect(Buffer.byteLength(lines[0]!.text)).toBeLessThanOrEqual(7);
    expect(lines[1]).toEqual({ start: 21, end: 24, text: 'ok', truncated: false });
  });

  test('an over-long line within one chunk is cut too', () => {
    const { lines, framer } = frame(['0123456789\n'], 4);
    expect(lines).toEqual([{ start: 0, end: 11, text: '0123', truncated: true }]);
    expect(framer.pendingBytes).toBe(0);
  });

  test('never holds more than the limit while skipping a huge line', () => {
    const framer = new LineFramer(0, 16);
    const chunk = Buffer.alloc(1000, 0x61);
    for (let i = 0; i < 100; i++) {
      framer.push(chunk, i * 1000, () => undefined);
      expect(framer.pendingBytes).toBeLessThanOrEqual(16);
    }
    const lines: RawLine[] = [];
    framer.push(Buffer.from('\n'), 100_000, (l) => lines.push(l));
    expect(lines).toEqual([{ start: 0, end: 100_001, text: 'a'.repeat(16), truncated: true }]);
  });

  test('invalid UTF-8 becomes U+FFFD rather than an error', () => {
    const { lines } = frame([Buffer.from([0x61, 0xff, 0xfe, 0x62, 0x0a])]);
    expect(lines[0]!.text).toBe('a\ufffd\ufffdb');
  });
});

describe('LineFramer segments (lines as slices of one decoded segment)', () => {
  /** What framing must give: each line decoded on its own, exact byte offsets. */
  function naive(bytes: Buffer): RawLine[] {
    const out: RawLine[] = [];
    let pos = 0;
    for (let nl = bytes.indexOf(0x0a); nl !== -1; nl = bytes.indexOf(0x0a, pos)) {
      let to = nl;
      if (to > pos && bytes[to - 1] === 0x0d) to--;
      out.push({ start: pos, end: nl + 1, text: bytes.toString('utf8', pos, to), truncated: false });
      pos = nl + 1;
    }
    return out;
  }

  // A small deterministic generator: the same lines every run.
  function lines(n: number, seed: number): Buffer {
    let x = seed;
    const rnd = (m: number): number => ((x = (x * 1103515245 + 12345) & 0x7fffffff) % m);
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      const kind = rnd(20);
      if (kind === 0) parts.push('\n'); // empty line
      else if (kind === 1) parts.push(`{"n":${i},"user":"jos\u00e9 \u4e2d\u6587"}\n`); // multibyte: its segment is decoded line by line
      else if (kind === 2) parts.push(`{"n":${i},"crlf":true}\r\n`);
      else if (kind === 3) parts.push(`{"n":${i},"big":"${'x'.repeat(300_000 + rnd(1000))}"}\n`); // longer than a segment
      else if (kind === 4) parts.push('short\n'); // under 13 characters: never a slice
      else parts.push(`{"n":${i},"pad":"${'a'.repeat(rnd(3000))}"}\n`);
    }
    return Buffer.from(parts.join(''));
  }

  test.each([
    ['1 MiB reads', 1 << 20],
    ['64 KiB reads', 64 << 10],
    ['odd-sized reads', 333_333],
  ])('%s: every line and offset as if decoded alone, ASCII or not', (_name, size) => {
    const bytes = lines(4000, 7);
    const got: RawLine[] = [];
    const framer = new LineFramer(0, 4 << 20);
    const scratch = Buffer.alloc(size); // reused for each read, as the tailer does
    for (let at = 0; at < bytes.length; at += size) {
      const n = bytes.copy(scratch, 0, at, at + size);
      framer.push(scratch.subarray(0, n), at, (l) => got.push(l));
    }
    const want = naive(bytes);
    expect(got.length).toBe(want.length);
    for (let i = 0; i < want.length; i++) if (JSON.stringify(got[i]) !== JSON.stringify(want[i])) expect(got[i]).toEqual(want[i]);
    expect(framer.pendingBytes).toBe(0);
  });
});
