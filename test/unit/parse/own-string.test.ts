import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { verbLabel } from '../../../src/audit/audit-metrics.js';
import { ownString } from '../../../src/parse/own-string.js';
import { parseLine } from '../../../src/parse/parse-line.js';
import { createLegacyJoin } from '../../../src/process/legacy-join.js';
import { DEFAULT_OPTIONS } from '../../../src/config/options.js';
import type { InputSpec } from '../../../src/config/types.js';
import { createMetrics } from '../../../src/observe/metrics.js';
import { buildProcessors } from '../../../src/process/pipeline.js';
import { runProcessors } from '../../../src/process/stage.js';
import type { Batch } from '../../../src/batch/batch.js';
import { Batcher } from '../../../src/batch/batcher.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * MiB of heap still held after `keep` took something from each of 40 256 KiB ASCII parents (the size of a read
 * segment, tail/line-framer.ts) and the parents were dropped.
 */
function pinnedMiB(keep: (parent: string, i: number) => unknown, head = (i: number) => `{"verb":"deletecollection","i":${i},"pad":"`): number {
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept: unknown[] = [];
  for (let i = 0; i < 40; i++) kept.push(keep(head(i).padEnd(256 << 10, 'x'), i));
  gc();
  const after = process.memoryUsage().heapUsed;
  expect(kept.length).toBe(40);
  return (after - before) / 2 ** 20;
}

/** The first line of a parent, parsed as the tailer's lines are: a slice of it. */
const firstLine = (parent: string) => parseLine(parent.slice(0, parent.indexOf('\n')), false, true, 0);

describe('strings kept past their batch pin no read segment', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'own-string-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a plain slice pins its parent (why ownString exists)', () => {
    expect(pinnedMiB((p) => p.slice(10, 40))).toBeGreaterThan(8);
  });

  test('ownString: same text, the parent is freed', () => {
    expect(pinnedMiB((p) => ownString(p.slice(10, 40)))).toBeLessThan(1);
    const s = 'x'.repeat(100).slice(3, 50);
    expect(ownString(s)).toBe(s);
    expect(ownString('short')).toBe('short');
  });

  test('the audit metrics verb label (kept in a label set for the life of the agent)', () => {
    expect(pinnedMiB((p) => verbLabel(p.slice(9, 25)))).toBeLessThan(1);
    expect(verbLabel('deletecollection')).toBe('deletecollection');
    expect(verbLabel('frobnicate')).toBe('other');
  });

  test('a held legacy request line (waits for its response line)', () => {
    const stage = createLegacyJoin({ stateDir: dir, inputKey: 'audit', keepRaw: false });
    // each request line is the first line of its segment, the padding its other lines
    const req = (i: number): string => `2017-02-09T00:15:57.99Z AUDIT: id="ID-${i}" ip="1.2.3.4" method="GET" user="kubecfg" as="<self>" asgroups="<lookup>" namespace="default" uri="/api/v1/pods"\n`;
    const held = pinnedMiB((p, i) => stage(firstLine(p), { inputKey: 'audit', stream: 's1', offset: i, tags: {} }), req);
    expect(held).toBeLessThan(1);
  });

  test('an event --audit-policy keeps, once batched (a sparse policy would otherwise pin a segment per kept event)', () => {
    const policy = path.join(dir, 'p.yaml');
    fs.writeFileSync(policy, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n');
    const deps = { metrics: createMetrics(), logger: undefined as never, env: {} };
    const stages = buildProcessors({ key: 'a', json: true } as InputSpec, { ...DEFAULT_OPTIONS, stateDir: dir, auditPolicy: policy }, deps);
    const ev = (i: number): string => `{"kind":"Event","level":"Metadata","auditID":"id-${i}","stage":"ResponseComplete","verb":"get","user":{"username":"u"}}\n`;
    const sealed: Batch[] = [];
    const batcher = new Batcher({ maxEvents: 1000, maxBytes: 1 << 30, maxWaitMs: 1000 }, (b) => sealed.push(b));
    const lane = { id: 'a', target: { inputKey: 'a', logstore: 'a', source: 'h', tags: {}, shard: 2, ttl: 90, logstoreMode: 'standard' as const } };
    const held = pinnedMiB((p, i) => {
      const out = runProcessors(stages, firstLine(p), { inputKey: 'a', stream: 's', offset: i, tags: {} });
      expect(out).not.toBeNull();
      // the batcher copies what it keeps into its batch's own bytes (batch/event-arena.ts)
      for (const e of [out].flat()) batcher.add(lane, 's', i, i + 1, e!, 1, 0);
      return out && 1;
    }, ev);
    batcher.sealAll();
    expect(held).toBeLessThan(1);
    expect(sealed[0]!.events).toHaveLength(40);
    expect(sealed[0]!.events[39]!.raw).toContain('"auditID":"id-39"');
  });
});
