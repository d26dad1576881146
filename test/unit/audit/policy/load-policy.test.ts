// The loader against kube-apiserver's reader_test.go and validation_test.go cases, plus what a user gets told.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ErrorCodes } from '../../../../src/errors.js';
import { loadPolicyFile, parsePolicy, PolicyError } from '../../../../src/audit/policy/load-policy.js';

const policyDefPattern = `
apiVersion: audit.k8s.io/{version}
kind: Policy
rules:
  - level: None
    nonResourceURLs:
      - /healthz*
      - /version
  - level: RequestResponse
    users: ["tim"]
    userGroups: ["testers", "developers"]
    verbs: ["patch", "delete", "create"]
    resources:
      - group: ""
      - group: "rbac.authorization.k8s.io"
        resources: ["clusterroles", "clusterrolebindings"]
    namespaces: ["default", "kube-system"]
  - level: Metadata
`;

function fail(text: string): PolicyError {
  try {
    parsePolicy(text, 'p.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyError);
    return e as PolicyError;
  }
  throw new Error('expected the policy to be rejected');
}

const v1 = (rules: string, head = '') => `apiVersion: audit.k8s.io/v1\nkind: Policy\n${head}rules:\n${rules}`;

describe("reader_test.go", () => {
  test.each(['v1', 'v1beta1'])('TestParser %s: the expected rules', (version) => {
    const { policy, warnings } = parsePolicy(policyDefPattern.replace('{version}', version), 'p.yaml');
    expect(policy.rules).toHaveLength(3);
    expect(policy.rules[0]).toMatchObject({ level: 'None', nonResourceURLs: ['/healthz*', '/version'] });
    expect(policy.rules[1]).toMatchObject({
      level: 'RequestResponse',
      users: ['tim'],
      userGroups: ['testers', 'developers'],
      verbs: ['patch', 'delete', 'create'],
      resources: [
        { group: '', resources: [], resourceNames: [] },
        { group: 'rbac.authorization.k8s.io', resources: ['clusterroles', 'clusterrolebindings'], resourceNames: [] },
      ],
      namespaces: ['default', 'kube-system'],
    });
    expect(policy.rules[2]).toMatchObject({ level: 'Metadata' });
    expect(warnings.map((w) => w.field)).toEqual(version === 'v1' ? [] : ['apiVersion']);
  });

  test('TestParsePolicyWithNoVersionOrKind', () => {
    expect(fail(policyDefPattern.split('\n').slice(3).join('\n')).code).toBe(ErrorCodes.POLICY_NOT_A_POLICY);
  });

  test.each([
    ['policyWithNoRule', 'apiVersion: audit.k8s.io/v1\nkind: Policy', ErrorCodes.POLICY_NO_RULES],
    ['emptyPolicyFile', '', ErrorCodes.POLICY_NOT_A_POLICY],
    ['rules: []', 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n', ErrorCodes.POLICY_NO_RULES],
  ])('TestPolicyCntCheck %s', (_, text, code) => {
    expect(fail(text).code).toBe(code);
  });

  test('JSON is accepted too', () => {
    const { policy } = parsePolicy('{"apiVersion":"audit.k8s.io/v1","kind":"Policy","omitStages":["RequestReceived"],"omitManagedFields":true,"rules":[{"level":"Metadata","omitManagedFields":false}]}', 'p.json');
    expect(policy).toEqual({
      apiVersion: 'audit.k8s.io/v1',
      omitStages: ['RequestReceived'],
      omitManagedFields: true,
      rules: [{ level: 'Metadata', users: [], userGroups: [], verbs: [], resources: [], namespaces: [], nonResourceURLs: [], omitStages: [], omitManagedFields: false }],
    });
  });
});

describe('validation_test.go', () => {
  test.each([
    ['defaulting rule', '  - level: Metadata\n'],
    ['matching non-humans', '  - level: None\n    userGroups: ["system:serviceaccounts", "system:nodes"]\n'],
    ['specific request', '  - level: RequestResponse\n    verbs: ["get"]\n    resources: [{group: rbac.authorization.k8s.io, resources: [roles, rolebindings]}]\n    namespaces: ["kube-system"]\n'],
    ['some non-resource URLs', '  - level: Metadata\n    userGroups: ["developers"]\n    nonResourceURLs: ["/logs*", "/healthz*", "/metrics", "*"]\n'],
  ])('valid: %s', (_, rules) => {
    expect(parsePolicy(v1(rules), 'p.yaml').policy.rules).toHaveLength(1);
  });

  test.each([
    ['empty rule (missing level)', '  - {}\n', 'rules[0].level'],
    ['missing level', '  - verbs: ["get"]\n    resources: [{resources: ["secrets"]}]\n    namespaces: ["kube-system"]\n', 'rules[0].level'],
    ['invalid level', '  - level: FooBar\n', 'rules[0].level'],
    ['nonResourceURLs + namespaces', '  - level: Metadata\n    namespaces: ["default"]\n    nonResourceURLs: ["/logs*"]\n', 'rules[0].nonResourceURLs'],
    ['nonResourceURLs + resources', '  - level: Metadata\n    resources: [{resources: ["secrets"]}]\n    nonResourceURLs: ["/logs*"]\n', 'rules[0].nonResourceURLs'],
    ['invalid group name', '  - level: Metadata\n    resources: [{group: "rbac.authorization.k8s.io/v1beta1", resources: ["roles"]}]\n', 'rules[0].resources.group'],
    ['non-resource URL without /', '  - level: Metadata\n    nonResourceURLs: ["logs", "/healthz*"]\n', 'rules[0].nonResourceURLs[0]'],
    ['empty non-resource URL', '  - level: Metadata\n    nonResourceURLs: ["", "/healthz*"]\n', 'rules[0].nonResourceURLs[0]'],
    ['non-resource URL with several *', '  - level: Metadata\n    nonResourceURLs: ["/logs/*/*", "/metrics"]\n', 'rules[0].nonResourceURLs[0]'],
    ['non-resource URL with * not at the end', '  - level: Metadata\n    nonResourceURLs: ["/logs/*.log", "/metrics"]\n', 'rules[0].nonResourceURLs[0]'],
    ['resourceNames without resources', '  - level: Metadata\n    resources: [{group: "", resourceNames: ["x"]}]\n', 'rules[0].resources.resourceNames'],
    ['invalid rule omitStages', '  - level: Metadata\n    omitStages: ["Foo"]\n', 'rules[0].omitStages[0]'],
    ['several rules, the last invalid', '  - level: Metadata\n  - level: None\n    userGroups: [a]\n  - {}\n', 'rules[2].level'],
  ])('invalid: %s → names %s', (_, rules, field) => {
    const e = fail(v1(rules));
    expect(e.code).toBe(ErrorCodes.POLICY_INVALID);
    expect(e.issues.map((i) => i.field)).toContain(field);
    expect(e.message).toContain('p.yaml');
    expect(e.message).toContain(field);
  });

  test('invalid policy-wide omitStages', () => {
    const e = fail(v1('  - level: Metadata\n', 'omitStages: ["RequestReceived", "Done"]\n'));
    expect(e.issues.map((i) => i.field)).toEqual(['omitStages[1]']);
  });
});

describe('what the user is told', () => {
  test('every problem is reported, with the rule index and the line it is on', () => {
    const text = v1('  - level: Metadata\n  - level: Nope\n  - level: None\n    users: tim\n  - level: Request\n    omitManagedFields: "yes"\n');
    const e = fail(text);
    expect(e.issues.map((i) => [i.field, i.line])).toEqual([
      ['rules[1].level', 5],
      ['rules[2].users', 7],
      ['rules[3].omitManagedFields', 9],
    ]);
  });

  test('wrong types are errors, never silently read', () => {
    expect(fail(v1('  - level: Metadata\n    verbs: [get, 1]\n')).issues[0]!.field).toBe('rules[0].verbs[1]');
    expect(fail(v1('  - level: Metadata\n', 'omitManagedFields: 1\n')).issues[0]!.field).toBe('omitManagedFields');
    expect(fail(v1('  - level: Metadata\n    resources: [pods]\n')).issues[0]!.field).toBe('rules[0].resources[0]');
    expect(fail('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: {level: Metadata}\n').issues[0]!.field).toBe('rules');
  });

  test('unknown fields are warnings, with their path (the apisnoop "stages:" key)', () => {
    const { warnings, policy } = parsePolicy(v1('  - level: Metadata\n    stages: [RequestReceived]\n    resources: [{group: "", resource: [pods]}]\n', 'spec: {}\n'), 'p.yaml');
    expect(warnings.map((w) => w.field)).toEqual(['spec', 'rules[0].stages', 'rules[0].resources[0].resource']);
    expect(policy.rules[0]!.omitStages).toEqual([]);
  });

  test('not a policy: a ConfigMap, a bare list of rules, v1alpha1, two documents, bad YAML', () => {
    expect(fail('apiVersion: v1\nkind: ConfigMap\ndata: {}\n').code).toBe(ErrorCodes.POLICY_NOT_A_POLICY);
    expect(fail('- level: None\n').code).toBe(ErrorCodes.POLICY_NOT_A_POLICY);
    expect(fail('apiVersion: audit.k8s.io/v1alpha1\nkind: Policy\nrules: [{level: None}]\n').code).toBe(ErrorCodes.POLICY_NOT_A_POLICY);
    expect(fail(`${v1('  - level: None\n')}---\n${v1('  - level: None\n')}`).code).toBe(ErrorCodes.POLICY_SYNTAX);
    const bad = fail('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: [\n');
    expect(bad.code).toBe(ErrorCodes.POLICY_SYNTAX);
    expect(bad.issues[0]!.line).toBeGreaterThan(0);
  });

  test('YAML 1.1 as the API server reads it: an unquoted yes is a boolean', () => {
    expect(parsePolicy(v1('  - level: Request\n    omitManagedFields: yes\n'), 'p.yaml').policy.rules[0]!.omitManagedFields).toBe(true);
  });

  test('an unreadable file: its own code, the path in the message', () => {
    const missing = path.join(os.tmpdir(), `no-such-policy-${process.pid}.yaml`);
    try {
      loadPolicyFile(missing);
      throw new Error('expected an error');
    } catch (e) {
      expect((e as PolicyError).code).toBe(ErrorCodes.POLICY_UNREADABLE);
      expect((e as PolicyError).message).toContain(missing);
    }
  });

  test('the ready-made policies of policies/ load without a problem', () => {
    const dir = new URL('../../../../policies/', import.meta.url);
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.sort()).toEqual(['ack.yaml', 'cost-saver.yaml', 'security.yaml']);
    for (const f of files) {
      const { warnings } = loadPolicyFile(new URL(f, dir).pathname);
      expect(warnings.map((w) => w.field)).toEqual(f === 'ack.yaml' ? ['apiVersion'] : []);
    }
  });
});
