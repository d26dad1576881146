// Every real policy of shared/data/policies (copied to test/fixtures/policies) loads, or is rejected with a clear
// error; and `policy simulate` on the real logs gives, per rule, the numbers of an independent naive evaluator
// (reference-policy.ts: JSON.parse + kube's checker transcribed), with the same shipped events.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { applyPolicy } from '../../../../src/audit/policy/apply.js';
import { parseLine } from '../../../../src/parse/parse-line.js';
import { compilePolicy } from '../../../../src/audit/policy/evaluate.js';
import { loadPolicyFile, PolicyError } from '../../../../src/audit/policy/load-policy.js';
import { simulate } from '../../../../src/audit/policy/simulate.js';
import { ErrorCodes } from '../../../../src/errors.js';
import { FIXTURES, REAL_LOGS } from './real-logs.js';
import { readRefPolicy, refEvaluate } from './reference-policy.js';

const POLICIES = path.join(FIXTURES, 'policies');
const REPO_POLICIES = fileURLToPath(new URL('../../../../policies/', import.meta.url));

/** Not a Policy: OpenShift's bare rule lists (fragments) and a ConfigMap that embeds policies. */
const REJECTED: Record<string, string> = {
  'openshift-library-go-manifests-allrequestbodies-rules.yaml': ErrorCodes.POLICY_NOT_A_POLICY,
  'openshift-library-go-manifests-default-rules.yaml': ErrorCodes.POLICY_NOT_A_POLICY,
  'openshift-library-go-manifests-none-rules.yaml': ErrorCodes.POLICY_NOT_A_POLICY,
  'openshift-library-go-manifests-writerequestbodies-rules.yaml': ErrorCodes.POLICY_NOT_A_POLICY,
  'openshift-library-go-testdata-audit-policies-cm-scenario-1.yaml': ErrorCodes.POLICY_NOT_A_POLICY,
};

const policyFiles = fs.readdirSync(POLICIES).filter((f) => f.endsWith('.yaml')).sort();
const loadable = [...policyFiles.filter((f) => !(f in REJECTED)).map((f) => path.join(POLICIES, f)), ...['ack.yaml', 'cost-saver.yaml', 'security.yaml'].map((f) => path.join(REPO_POLICIES, f))];

function realLines(): string[] {
  return REAL_LOGS.flatMap((f) =>
    fs
      .readFileSync(f, 'utf8')
      .split('\n')
      .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
      .filter((l) => l.length > 0),
  );
}

describe('the real policies', () => {
  test('all 24 are there', () => expect(policyFiles).toHaveLength(24));

  test.each(policyFiles)('%s loads, or is rejected with a clear error', (f) => {
    const file = path.join(POLICIES, f);
    if (f in REJECTED) {
      let err: unknown;
      try {
        loadPolicyFile(file);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PolicyError);
      expect((err as PolicyError).code).toBe(REJECTED[f]);
      expect((err as PolicyError).message).toContain(file);
      expect((err as PolicyError).fix).toBeTruthy();
      return;
    }
    const { policy, warnings } = loadPolicyFile(file);
    expect(policy.rules.length).toBeGreaterThan(0);
    // apisnoop's kind policy has a rule key the API server does not know: a warning, not an error
    if (f === 'apisnoop-kind-policy.yaml') expect(warnings.map((w) => w.field)).toContain('rules[0].stages');
    // OpenShift's rendered policies misspell `resources` as `resource` in one entry: the API server ignores it
    // (so that entry matches every machineconfiguration resource); tailship does the same and says so
    for (const w of warnings) expect(w.field).toMatch(/^(apiVersion|rules\[0\]\.stages|rules\[\d+\]\.resources\[4\]\.resource)$/);
    if (/openshift-library-go-testdata-(allrequestbodies|multipleCr|oauth|writerequestbodies)/.test(f)) {
      expect(warnings.map((w) => w.field).filter((x) => x.endsWith('.resource')).length).toBeGreaterThan(0);
    }
  });
});

describe('policy simulate on the real logs against an independent count', () => {
  const lines = realLines();
  test('the logs hold events', () => expect(lines.length).toBeGreaterThan(80));

  test.each(loadable.map((f) => [path.relative(FIXTURES, f).replace(/^\.\.\/\.\.\//, ''), f]))('%s', async (_, file) => {
    const ref = readRefPolicy(file);
    const evaluator = compilePolicy(loadPolicyFile(file).policy);
    const n = ref.rules.length;
    const expected = [...Array.from({ length: n }, (_, i) => i as number | null), null].map((rule) => ({ rule, events: 0, kept: 0, bytesIn: 0, bytesOut: 0 }));
    const perEvent: unknown[] = [];
    for (const line of lines) {
      const r = refEvaluate(ref, line);
      const row = expected[r.rule ?? n]!;
      const bytes = Buffer.byteLength(line);
      row.events++;
      row.bytesIn += bytes;
      if (r.kept) {
        row.kept++;
        row.bytesOut += r.changed ? Buffer.byteLength(JSON.stringify(r.event)) : bytes;
      }
      const ev = JSON.parse(line) as { auditID?: string; stage?: string };
      perEvent.push({ auditID: ev.auditID ?? '', stage: ev.stage ?? '', rule: r.rule, level: r.level, kept: r.kept });
      // the shipped event is the reference's, value for value
      parseLine(line, false, true, 0); // the parser's member table now describes this line: the policy reads it
      const mine = applyPolicy(line, evaluator);
      parseLine('{}', false, true, 0); // and without the table (a walk of the text): the same answer
      expect(applyPolicy(line, evaluator).out).toBe(mine.out);
      if (r.kept) expect(JSON.parse(mine.out!)).toEqual(r.event);
      else expect(mine.out).toBeUndefined();
      if (!r.changed && r.kept) expect(mine.out).toBe(line);
    }
    const got: unknown[] = [];
    const result = await simulate(evaluator, REAL_LOGS, { onEvent: (e) => got.push(e) });
    expect(result.rules).toEqual(expected);
    expect(result.total).toEqual({
      events: lines.length,
      kept: expected.reduce((a, r) => a + r.kept, 0),
      bytesIn: expected.reduce((a, r) => a + r.bytesIn, 0),
      bytesOut: expected.reduce((a, r) => a + r.bytesOut, 0),
    });
    expect(got).toEqual(perEvent);
    expect(result.invalidLines).toBe(0);
  });
});
