// The processor as the pipeline runs it: drops counted per input and reason, unchanged events passed through as
// the same object, changed ones as new events (the argument is never mutated), non-objects untouched.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { createPolicyStage, eventsDroppedCounter } from '../../../../src/audit/policy/policy-stage.js';
import { ErrorCodes } from '../../../../src/errors.js';
import { createMetrics } from '../../../../src/observe/metrics.js';
import { parseLine } from '../../../../src/parse/parse-line.js';
import { buildProcessors } from '../../../../src/process/pipeline.js';
import { DEFAULT_OPTIONS } from '../../../../src/config/options.js';
import type { InputSpec } from '../../../../src/config/types.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-stage-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
};
const POLICY = write(
  'p.yaml',
  'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: None\n  resources: [{group: coordination.k8s.io, resources: [leases]}]\n- level: Metadata\n',
);
const ctx = { inputKey: 'audit-x', stream: 's', offset: 0, tags: {} };
const line = (o: Record<string, unknown>) => parseLine(JSON.stringify({ kind: 'Event', level: 'RequestResponse', stage: 'ResponseComplete', verb: 'get', user: { username: 'u' }, ...o }), false, true, 0);

test('drops are counted per input and reason; kept events are lowered; unchanged ones are the same object', async () => {
  const metrics = createMetrics();
  const stage = createPolicyStage(POLICY, { metrics });
  const lease = line({ objectRef: { resource: 'leases', apiGroup: 'coordination.k8s.io' } });
  expect(stage(lease, ctx)).toBeNull();
  expect(stage(line({ stage: 'RequestReceived', objectRef: { resource: 'pods' } }), ctx)).toBeNull();
  expect(stage(line({ stage: 'RequestReceived', objectRef: { resource: 'pods' } }), { ...ctx, inputKey: 'other' })).toBeNull();
  const withBody = line({ objectRef: { resource: 'pods' }, requestObject: { a: 1 } });
  const before = withBody.raw;
  const out = stage(withBody, ctx) as ReturnType<typeof line>;
  expect(withBody.raw).toBe(before);
  expect(out).not.toBe(withBody);
  expect(JSON.parse(out.raw)).toEqual({ kind: 'Event', level: 'Metadata', stage: 'ResponseComplete', verb: 'get', user: { username: 'u' }, objectRef: { resource: 'pods' } });
  expect(out.time).toBe(withBody.time);
  const plain = line({ level: 'Metadata', objectRef: { resource: 'pods' } });
  expect(stage(plain, ctx)).toBe(plain);
  const bad = parseLine('{"not json', false, true, 0);
  expect(stage(bad, ctx)).toBe(bad);
  const text = await metrics.registry.metrics();
  expect(text).toContain('tailship_events_dropped_total{input="audit-x",reason="policy"} 1');
  expect(text).toContain('tailship_events_dropped_total{input="audit-x",reason="stage"} 1');
  expect(text).toContain('tailship_events_dropped_total{input="other",reason="stage"} 1');
  // a second stage on the same registry (a per-sink ?policy=) shares the counter
  createPolicyStage(POLICY, { metrics });
  expect(eventsDroppedCounter(metrics.registry)).toBe(eventsDroppedCounter(metrics.registry));
});

test('an invalid policy throws its code at construction', () => {
  const f = write('bad.yaml', 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Everything\n');
  expect(() => createPolicyStage(f, { metrics: createMetrics() })).toThrow(expect.objectContaining({ code: ErrorCodes.POLICY_INVALID }));
});

test('buildProcessors adds the stage for JSON inputs with --audit-policy only', () => {
  const metrics = createMetrics();
  const deps = { metrics, logger: undefined as never, env: {} };
  const input = { key: 'a', json: true } as InputSpec;
  // Other stages (audit metrics, identity) are always there: the policy adds exactly one, for JSON inputs only.
  const base = buildProcessors(input, { ...DEFAULT_OPTIONS }, deps).length;
  const plainBase = buildProcessors({ ...input, json: false }, { ...DEFAULT_OPTIONS }, deps).length;
  expect(buildProcessors(input, { ...DEFAULT_OPTIONS, auditPolicy: POLICY }, deps)).toHaveLength(base + 1);
  expect(buildProcessors({ ...input, json: false }, { ...DEFAULT_OPTIONS, auditPolicy: POLICY }, deps)).toHaveLength(plainBase);
});
