import { describe, expect, test } from 'vitest';
import fs from 'node:fs';
import { GC_FLAGS, HEAP_FLAGS, MALLOC_ENV, NODE_FLAGS, needsHeapBound, RELAUNCHED_ENV, type LaunchFacts } from '../../../src/launch/heap-bound.js';

const GiB = 1024 * 1024 * 1024;
const unbounded = (over: Partial<LaunchFacts> = {}): LaunchFacts => ({ args: ['run', '--sink', 'file:x'], execArgv: [], env: {}, heapSizeLimit: 4 * GiB, ...over });

describe('needsHeapBound: when `node dist/cli.js` relaunches itself under the heap flags', () => {
  test('run without heap flags and a default (multi-GiB) heap limit: relaunch', () => {
    expect(needsHeapBound(unbounded())).toBe(true);
    expect(needsHeapBound(unbounded({ args: [] }))).toBe(true); // run is the default command
    expect(needsHeapBound(unbounded({ args: ['--sink', 'file:x', 'run'] }))).toBe(true);
  });

  test('the shebang or NODE_OPTIONS gave the flags (a small heap limit): no relaunch', () => {
    expect(needsHeapBound(unbounded({ heapSizeLimit: 112 * 1024 * 1024 }))).toBe(false);
    expect(needsHeapBound(unbounded({ execArgv: [...HEAP_FLAGS] }))).toBe(false);
  });

  test("an operator's own heap size wins, even a large one", () => {
    expect(needsHeapBound(unbounded({ execArgv: ['--max-old-space-size=4096'] }))).toBe(false);
    expect(needsHeapBound(unbounded({ env: { NODE_OPTIONS: '--enable-source-maps --max-old-space-size=2048' } }))).toBe(false);
    expect(needsHeapBound(unbounded({ env: { NODE_OPTIONS: '--max-semi-space-size=8' } }))).toBe(false);
  });

  test('other NODE_OPTIONS do not stop the relaunch', () => {
    expect(needsHeapBound(unbounded({ env: { NODE_OPTIONS: '--enable-source-maps' } }))).toBe(true);
  });

  test('short commands are not relaunched', () => {
    for (const args of [['status'], ['config'], ['help'], ['version'], ['--help'], ['run', '--help'], ['--version'], ['--state-dir', 's', 'status']]) {
      expect(needsHeapBound(unbounded({ args })), args.join(' ')).toBe(false);
    }
  });

  test('never twice: the relaunched process does not relaunch, whatever its heap limit says', () => {
    expect(needsHeapBound(unbounded({ env: { [RELAUNCHED_ENV]: '1' } }))).toBe(false);
  });
});

test("dist/cli.js's shebang gives the heap flags and malloc setting of a relaunch (the GC flags do not fit)", () => {
  const shebang = fs.readFileSync(new URL('../../../src/cli.ts', import.meta.url), 'utf8').split('\n')[0]!;
  expect(shebang).toBe(`#!/usr/bin/env -S ${Object.entries(MALLOC_ENV).map(([k, v]) => `${k}=${v}`).join(' ')} node ${HEAP_FLAGS.join(' ')} --`);
  expect(shebang.length, 'Linux before 5.1 cuts a shebang line at 127 bytes').toBeLessThanOrEqual(127);
});

test('the `tailship` command (bin/tailship) runs dist/cli.js with every node flag and malloc setting of a relaunch', () => {
  const script = fs.readFileSync(new URL('../../../bin/tailship', import.meta.url), 'utf8');
  expect(script.split('\n')[0]).toBe('#!/bin/sh');
  // An operator's own value wins: each is a default.
  for (const [k, v] of Object.entries(MALLOC_ENV)) expect(script).toContain(`${k}="\${${k}:-${v}}"`);
  expect(script).toContain(`exec node ${NODE_FLAGS.join(' ')} -- "\${self%/*}/../dist/cli.js" "$@"`);
  expect(NODE_FLAGS).toEqual([...HEAP_FLAGS, ...GC_FLAGS]);
});
