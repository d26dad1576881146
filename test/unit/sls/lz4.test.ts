import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import lz4js from 'lz4js';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeLogGroup, toSlsLog } from '../../../src/deliver/sinks/sls/log-group.js';
import { lz4CompressBlock } from '../../../src/deliver/sinks/sls/lz4.js';
import { lz4DecompressStrict, shipEventsFromFixture } from '../../helpers/fake-sls.js';

function roundTripLz4js(src: Buffer, block: Buffer): Buffer {
  const out = Buffer.alloc(src.length);
  const end = lz4js.decompressBlock(block, out, 0, block.length, 0);
  expect(end).toBe(src.length);
  return out;
}

/** Inputs that end in a repeat of earlier bytes: where lz4js alone emits a match too close to the end. */
function tailRepeats(): Buffer[] {
  const out: Buffer[] = [];
  let seed = 7;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 400; i++) {
    const base = 'abcdefghijklmnop'.repeat(2) + Math.floor(rnd() * 1e12).toString(36);
    out.push(Buffer.from(base + base.slice(0, 8 + (i % 16))));
    let s = '';
    for (let j = 0; j < 20 + (i % 60); j++) s += 'xyz'[Math.floor(rnd() * 3)];
    out.push(Buffer.from(s));
  }
  return out;
}

const auditGroup = (): Buffer => {
  const logs = shipEventsFromFixture('cks-prep-p.auster.ndjson').map(toSlsLog);
  return encodeLogGroup(logs, 0, logs.length, { source: 'node-1', tags: [['audit', 'apiserver']] });
};

describe('lz4 raw block', () => {
  it('round-trips a real audit LogGroup through lz4js decompressBlock and compresses it', () => {
    const raw = auditGroup();
    const block = lz4CompressBlock(raw);
    expect(block.length).toBeLessThan(raw.length / 3);
    expect(roundTripLz4js(raw, block).equals(raw)).toBe(true);
    expect(lz4DecompressStrict(block, raw.length).equals(raw)).toBe(true);
  });

  it('handles incompressible, tiny and empty input with a literal-only block', () => {
    const random = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 2654435761) >>> 24));
    for (const src of [random, Buffer.from('a'), Buffer.from('abcdefghijklmn'), Buffer.alloc(0)]) {
      const block = lz4CompressBlock(src);
      expect(block.length).toBeLessThanOrEqual(src.length + Math.ceil(src.length / 255) + 1);
      expect(lz4DecompressStrict(block, src.length).equals(src)).toBe(true);
    }
  });

  it('never starts a match in the last 12 bytes (the reference decoder would reject the block)', () => {
    let lz4jsAloneRejected = 0;
    for (const src of tailRepeats()) {
      const block = lz4CompressBlock(src);
      expect(roundTripLz4js(src, block).equals(src)).toBe(true);
      expect(() => lz4DecompressStrict(block, src.length)).not.toThrow();
      const dst = new Uint8Array(lz4js.compressBound(src.length));
      const n = lz4js.compressBlock(src, dst, 0, src.length, new Uint32Array(1 << 16));
      if (n > 0) {
        try {
          lz4DecompressStrict(dst.subarray(0, n), src.length);
        } catch {
          lz4jsAloneRejected++;
        }
      }
    }
    // The inputs do exercise the case: lz4js's bare output breaks the rule for many of them.
    expect(lz4jsAloneRejected).toBeGreaterThan(20);
  });

  // The reference C decoder, when this machine has it (liblz4 + a C compiler): the decisive check.
  const lib = ['/usr/lib/x86_64-linux-gnu/liblz4.so.1', '/usr/lib/aarch64-linux-gnu/liblz4.so.1', '/usr/lib/liblz4.so.1'].find(existsSync);
  const cc = (() => {
    try {
      execFileSync('cc', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  const dir = mkdtempSync(join(tmpdir(), 'tailship-lz4-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!lib || !cc)('is accepted by liblz4 LZ4_decompress_safe with the exact raw size', () => {
    const c = join(dir, 'dec.c');
    writeFileSync(
      c,
      `#include <stdio.h>
#include <stdlib.h>
int LZ4_decompress_safe(const char*, char*, int, int);
static char in[1 << 24];
int main(int argc, char** argv) {
  int raw = atoi(argv[1]); size_t n = fread(in, 1, sizeof in, stdin); char* out = malloc(raw + 1);
  int r = LZ4_decompress_safe(in, out, (int)n, raw);
  if (r != raw) { printf("ERR %d\\n", r); return 1; }
  fwrite(out, 1, r, stdout); return 0;
}
`,
    );
    const exe = join(dir, 'dec');
    execFileSync('cc', ['-O1', '-o', exe, c, lib!]);
    const inputs = [auditGroup(), ...tailRepeats().slice(0, 120)];
    for (const src of inputs) {
      const out = execFileSync(exe, [String(src.length)], { input: lz4CompressBlock(src), maxBuffer: 1 << 25 });
      expect(out.equals(src)).toBe(true);
    }
    // And the check itself can fail: lz4js's own block for such an input is refused.
    const bad = Buffer.from('abcdefghijklmnopabcdefghijklmnop0123456789abcdefghij');
    const dst = new Uint8Array(lz4js.compressBound(bad.length));
    const n = lz4js.compressBlock(bad, dst, 0, bad.length, new Uint32Array(1 << 16));
    expect(() => execFileSync(exe, [String(bad.length)], { input: Buffer.from(dst.subarray(0, n)), stdio: 'pipe' })).toThrow();
  });
});
