// The evaluator against kube-apiserver's own checker cases (staging/src/k8s.io/apiserver/pkg/audit/policy/
// checker_test.go: TestChecker, TestCheckerPolicyOmitStages, TestOmitManagedFields, TestUnionStages), ported
// request by request, then a table over every rule field and their combinations.
import { describe, expect, test } from 'vitest';
import { compilePolicy } from '../../../../src/audit/policy/evaluate.js';
import { STAGES, type Level, type Policy, type PolicyRule, type RequestAttributes, type Stage } from '../../../../src/audit/policy/types.js';

const tim = { username: 'tim@k8s.io', groups: ['humans', 'developers'] };

function req(p: Partial<RequestAttributes> & { user?: { username: string; groups: string[] } | null }): RequestAttributes {
  const u = p.user === undefined ? tim : p.user;
  return {
    hasUser: u !== null,
    username: u?.username ?? '',
    groups: u?.groups ?? [],
    verb: p.verb ?? 'get',
    resourceRequest: p.resourceRequest ?? false,
    namespace: p.namespace ?? '',
    apiGroup: p.apiGroup ?? '',
    resource: p.resource ?? '',
    subresource: p.subresource ?? '',
    name: p.name ?? '',
    path: p.path ?? '',
  };
}

const attrs: Record<string, RequestAttributes> = {
  namespaced: req({ verb: 'get', namespace: 'default', apiGroup: '', resource: 'pods', name: 'busybox', resourceRequest: true, path: '/api/v1/namespaces/default/pods/busybox' }),
  cluster: req({ verb: 'get', apiGroup: 'rbac.authorization.k8s.io', resource: 'clusterroles', name: 'edit', resourceRequest: true, path: '/apis/rbac.authorization.k8s.io/v1beta1/clusterroles/edit' }),
  nonResource: req({ verb: 'get', resourceRequest: false, path: '/logs/kubelet.log' }),
  subresource: req({ verb: 'get', namespace: 'default', resource: 'pods', subresource: 'log', name: 'busybox', resourceRequest: true, path: '/api/v1/namespaces/default/pods/busybox' }),
  Unauthorized: req({ user: null, verb: 'get', namespace: 'default', resource: 'pods', name: 'busybox', resourceRequest: true, path: '/api/v1/namespaces/default/pods/busybox' }),
};

function rule(level: Level, p: Partial<PolicyRule> = {}): PolicyRule {
  return { level, users: [], userGroups: [], verbs: [], resources: [], namespaces: [], nonResourceURLs: [], omitStages: [], ...p };
}
const gr = (resources: string[], group = '', resourceNames: string[] = []) => ({ group, resources, resourceNames });

const rules: Record<string, PolicyRule> = {
  default: rule('Metadata'),
  create: rule('Request', { verbs: ['create'] }),
  tims: rule('Metadata', { users: ['tim@k8s.io'] }),
  humans: rule('Metadata', { userGroups: ['humans'] }),
  serviceAccounts: rule('Request', { userGroups: ['system:serviceaccounts'] }),
  getPods: rule('RequestResponse', { verbs: ['get'], resources: [gr(['pods'])] }),
  getPodLogs: rule('Request', { verbs: ['get'], resources: [gr(['pods/log'])] }),
  getPodWildcardMatching: rule('Request', { verbs: ['get'], resources: [gr(['*'])] }),
  getPodResourceWildcardMatching: rule('Request', { verbs: ['get'], resources: [gr(['*/log'])] }),
  getPodSubResourceWildcardMatching: rule('Request', { verbs: ['get'], resources: [gr(['pods/*'])] }),
  getClusterRoles: rule('RequestResponse', { verbs: ['get'], resources: [gr(['clusterroles'], 'rbac.authorization.k8s.io')], namespaces: [''] }),
  getLogs: rule('RequestResponse', { verbs: ['get'], nonResourceURLs: ['/logs*'] }),
  getMetrics: rule('Request', { verbs: ['get'], nonResourceURLs: ['/metrics'] }),
  clusterRoleEdit: rule('Request', { resources: [gr(['clusterroles'], 'rbac.authorization.k8s.io', ['edit'])] }),
  'omit RequestReceived': rule('Request', { omitStages: ['RequestReceived'] }),
  'only audit panic': rule('Request', { omitStages: ['RequestReceived', 'ResponseStarted', 'ResponseComplete'] }),
};

const bits = (stages: Stage[]) => stages.reduce((m, s) => m | (1 << STAGES.indexOf(s)), 0);

/** checker_test.go's test(): a policy of the named rules (and policy-wide stages) evaluated for one request. */
function check(reqName: string, expLevel: Level, policyStages: Stage[], expOmit: Stage[], ...ruleNames: string[]) {
  const policy: Policy = { apiVersion: 'audit.k8s.io/v1', omitStages: policyStages, omitManagedFields: false, rules: ruleNames.map((n) => rules[n]!) };
  const d = compilePolicy(policy).evaluate(attrs[reqName]!);
  expect({ req: reqName, rules: ruleNames, level: d.level, omit: d.omitStages }).toEqual({ req: reqName, rules: ruleNames, level: expLevel, omit: bits(expOmit) });
}

/** testAuditLevel(t, stages) of checker_test.go, case by case. */
function auditLevelCases(stages: Stage[]): Array<[string, Level, Stage[], Stage[], ...string[]]> {
  const s = stages;
  return [
    ['namespaced', 'Metadata', s, s, 'default'],
    ['namespaced', 'None', s, s, 'create'],
    ['namespaced', 'Metadata', s, s, 'tims'],
    ['namespaced', 'Metadata', s, s, 'humans'],
    ['namespaced', 'None', s, s, 'serviceAccounts'],
    ['namespaced', 'RequestResponse', s, s, 'getPods'],
    ['namespaced', 'None', s, s, 'getClusterRoles'],
    ['namespaced', 'None', s, s, 'getLogs'],
    ['namespaced', 'None', s, s, 'getMetrics'],
    ['namespaced', 'Metadata', s, s, 'getMetrics', 'serviceAccounts', 'default'],
    ['namespaced', 'RequestResponse', s, s, 'getMetrics', 'getPods', 'default'],
    ['namespaced', 'RequestResponse', s, s, 'getPodLogs', 'getPods'],
    ['cluster', 'Metadata', s, s, 'default'],
    ['cluster', 'None', s, s, 'create'],
    ['cluster', 'Metadata', s, s, 'tims'],
    ['cluster', 'Metadata', s, s, 'humans'],
    ['cluster', 'None', s, s, 'serviceAccounts'],
    ['cluster', 'None', s, s, 'getPods'],
    ['cluster', 'RequestResponse', s, s, 'getClusterRoles'],
    ['cluster', 'Request', s, s, 'clusterRoleEdit', 'getClusterRoles'],
    ['cluster', 'None', s, s, 'getLogs'],
    ['cluster', 'None', s, s, 'getMetrics'],
    ['cluster', 'Metadata', s, s, 'getMetrics', 'serviceAccounts', 'default'],
    ['cluster', 'RequestResponse', s, s, 'getMetrics', 'getClusterRoles', 'default'],
    ['cluster', 'None', s, s, 'getPodLogs', 'getPods'],
    ['nonResource', 'Metadata', s, s, 'default'],
    ['nonResource', 'None', s, s, 'create'],
    ['nonResource', 'Metadata', s, s, 'tims'],
    ['nonResource', 'Metadata', s, s, 'humans'],
    ['nonResource', 'None', s, s, 'serviceAccounts'],
    ['nonResource', 'None', s, s, 'getPods'],
    ['nonResource', 'None', s, s, 'getClusterRoles'],
    ['nonResource', 'RequestResponse', s, s, 'getLogs'],
    ['nonResource', 'None', s, s, 'getMetrics'],
    ['nonResource', 'Metadata', s, s, 'getMetrics', 'serviceAccounts', 'default'],
    ['nonResource', 'RequestResponse', s, s, 'getLogs', 'getClusterRoles', 'default'],
    ['nonResource', 'None', s, s, 'getPodLogs', 'getPods'],
    ['subresource', 'Request', s, s, 'getPodLogs', 'getPods'],
    ['subresource', 'Request', s, s, 'getPodWildcardMatching'],
    ['subresource', 'Request', s, s, 'getPodResourceWildcardMatching'],
    ['subresource', 'Request', s, s, 'getPodSubResourceWildcardMatching'],
    ['Unauthorized', 'None', s, s, 'tims'],
    ['Unauthorized', 'Metadata', s, s, 'tims', 'default'],
    ['Unauthorized', 'None', s, s, 'humans'],
    ['Unauthorized', 'Metadata', s, s, 'humans', 'default'],
  ];
}

describe("kube-apiserver's checker_test.go", () => {
  test.each(auditLevelCases([]))('TestChecker: %s → %s (rules %s…)', (r, l, ps, es, ...names) => check(r, l, ps, es, ...names));

  const RR: Stage = 'RequestReceived';
  const RS: Stage = 'ResponseStarted';
  const RC: Stage = 'ResponseComplete';
  test.each([
    ['namespaced', 'Request', [], [RR], 'omit RequestReceived', 'getPods', 'default'],
    ['namespaced', 'Request', [], [RR, RS, RC], 'only audit panic', 'getPods', 'default'],
    ['cluster', 'Request', [], [RR], 'omit RequestReceived', 'getPods', 'default'],
    ['cluster', 'Request', [], [RR, RS, RC], 'only audit panic', 'getPods', 'default'],
    ['nonResource', 'Request', [], [RR], 'omit RequestReceived', 'getPods', 'default'],
    ['nonResource', 'Request', [], [RR, RS, RC], 'only audit panic', 'getPods', 'default'],
  ] as Array<[string, Level, Stage[], Stage[], ...string[]]>)('TestChecker omitStages per rule: %s → %s', (r, l, ps, es, ...names) => check(r, l, ps, es, ...names));

  const policyStages: Stage[] = [RR, RS];
  test.each(auditLevelCases(policyStages))('TestCheckerPolicyOmitStages: %s → %s', (r, l, ps, es, ...names) => check(r, l, ps, es, ...names));
  test.each([
    ['namespaced', 'Request', policyStages, [RR, RS], 'omit RequestReceived', 'getPods', 'default'],
    ['namespaced', 'Request', policyStages, [RR, RS, RC], 'only audit panic', 'getPods', 'default'],
    ['cluster', 'Request', policyStages, [RR, RS], 'omit RequestReceived', 'getPods', 'default'],
    ['cluster', 'Request', policyStages, [RR, RS, RC], 'only audit panic', 'getPods', 'default'],
    ['nonResource', 'Metadata', policyStages, [RR, RS], 'default', 'omit RequestReceived', 'getPods'],
    ['nonResource', 'Request', policyStages, [RR, RS, RC], 'only audit panic', 'getPods', 'default'],
  ] as Array<[string, Level, Stage[], Stage[], ...string[]]>)('TestCheckerPolicyOmitStages policy-wide: %s → %s', (r, l, ps, es, ...names) => check(r, l, ps, es, ...names));

  test.each([
    [[], [], []],
    [[RR], [], [RR]],
    [[RR], [RR], [RR]],
    [[RR], [RS], [RR, RS]],
    [[RR, RR], [RR, RR], [RR]],
    [[RR, RS], ['Panic', RR], [RR, RS, 'Panic']],
  ] as Array<[Stage[], Stage[], Stage[]]>)('TestUnionStages %j ∪ %j', (a, b, exp) => {
    const p: Policy = { apiVersion: 'audit.k8s.io/v1', omitStages: a, omitManagedFields: false, rules: [rule('Metadata', { omitStages: b })] };
    expect(compilePolicy(p).evaluate(attrs.namespaced!).omitStages).toBe(bits(exp));
  });

  test.each([
    ['global false, rule does not override', false, undefined, false],
    ['global true, rule does not override', true, undefined, true],
    ['global true, rule overrides to false', true, false, false],
    ['global false, rule overrides to true', false, true, true],
  ] as Array<[string, boolean, boolean | undefined, boolean]>)('TestOmitManagedFields: %s', (_, global, ruleValue, want) => {
    const r = rule('RequestResponse', { verbs: ['get'] });
    if (ruleValue !== undefined) r.omitManagedFields = ruleValue;
    const p: Policy = { apiVersion: 'audit.k8s.io/v1', omitStages: [], omitManagedFields: global, rules: [r] };
    const d = compilePolicy(p).evaluate(req({ verb: 'get' }));
    expect(d.rule).toBe(0);
    expect(d.omitManagedFields).toBe(want);
  });

  test('no rule matches: level None, the policy-wide stages and omitManagedFields, rule -1', () => {
    const p: Policy = { apiVersion: 'audit.k8s.io/v1', omitStages: ['Panic'], omitManagedFields: true, rules: [rule('Metadata', { verbs: ['create'] })] };
    expect(compilePolicy(p).evaluate(attrs.namespaced!)).toEqual({ rule: -1, level: 'None', omitStages: bits(['Panic']), omitManagedFields: true });
  });
});

// ---- every rule field, alone and combined ---------------------------------------------------------------------

const pod = (p: Parameters<typeof req>[0] = {}) => req({ resourceRequest: true, namespace: 'default', resource: 'pods', name: 'web-0', path: '/api/v1/namespaces/default/pods/web-0', ...p });
const node = req({ resourceRequest: true, resource: 'nodes', name: 'n1', path: '/api/v1/nodes/n1' });
const sa = { username: 'system:serviceaccount:kube-system:ctrl', groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] };
const anon = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

describe('every rule field and combinations', () => {
  const cases: Array<[string, Partial<PolicyRule>, RequestAttributes, boolean]> = [
    ['empty rule matches a resource request', {}, pod(), true],
    ['empty rule matches a non-resource request', {}, req({ path: '/healthz' }), true],
    ['empty rule matches a request without user', {}, pod({}), true],
    ['users: exact name', { users: ['tim@k8s.io'] }, pod(), true],
    ['users: other name', { users: ['bob'] }, pod(), false],
    ['users: no prefix match', { users: ['tim'] }, pod(), false],
    ['users: no user at all never matches', { users: [''] }, req({ user: null, resourceRequest: true }), false],
    ['users: anonymous is a user', { users: ['system:anonymous'] }, pod({ user: anon }), true],
    ['userGroups: any group of the user', { userGroups: ['developers'] }, pod(), true],
    ['userGroups: none of them', { userGroups: ['system:masters'] }, pod(), false],
    ['userGroups: user without groups', { userGroups: ['humans'] }, pod({ user: { username: 'x', groups: [] } }), false],
    ['userGroups: no user never matches', { userGroups: ['system:unauthenticated'] }, req({ user: null, resourceRequest: true }), false],
    ['userGroups: unauthenticated group', { userGroups: ['system:unauthenticated'] }, pod({ user: anon }), true],
    ['users AND userGroups: both must match', { users: ['tim@k8s.io'], userGroups: ['system:serviceaccounts'] }, pod(), false],
    ['users AND userGroups: both match', { users: [sa.username], userGroups: ['system:serviceaccounts'] }, pod({ user: sa }), true],
    ['verbs: listed', { verbs: ['list', 'get'] }, pod(), true],
    ['verbs: not listed', { verbs: ['create'] }, pod(), false],
    ['verbs: case matters', { verbs: ['GET'] }, pod(), false],
    ['namespaces: listed', { namespaces: ['default'] }, pod(), true],
    ['namespaces: other', { namespaces: ['kube-system'] }, pod(), false],
    ['namespaces: "" is cluster-scoped', { namespaces: [''] }, node, true],
    ['namespaces: "" is not a namespaced request', { namespaces: [''] }, pod(), false],
    ['namespaces: a rule with namespaces never matches a non-resource request', { namespaces: [''] }, req({ path: '/healthz' }), false],
    ['resources: core group, resource listed', { resources: [gr(['pods'])] }, pod(), true],
    ['resources: group only (no resources) matches every resource of it', { resources: [gr([])] }, pod(), true],
    ['resources: group only does not match another group', { resources: [gr([], 'apps')] }, pod(), false],
    ['resources: group must match exactly', { resources: [gr(['pods'], 'apps')] }, pod(), false],
    ['resources: apps/deployments', { resources: [gr(['deployments'], 'apps')] }, pod({ apiGroup: 'apps', resource: 'deployments' }), true],
    ['resources: any of several group entries', { resources: [gr(['x'], 'apps'), gr(['pods'])] }, pod(), true],
    ['resources: "pods" does not match pods/log', { resources: [gr(['pods'])] }, pod({ subresource: 'log' }), false],
    ['resources: "pods/log" matches pods/log', { resources: [gr(['pods/log'])] }, pod({ subresource: 'log' }), true],
    ['resources: "pods/log" does not match pods', { resources: [gr(['pods/log'])] }, pod(), false],
    ['resources: "*" matches a resource', { resources: [gr(['*'])] }, pod(), true],
    ['resources: "*" matches a subresource', { resources: [gr(['*'])] }, pod({ subresource: 'exec' }), true],
    ['resources: "*" only in its group', { resources: [gr(['*'], 'apps')] }, pod(), false],
    ['resources: "*/scale" matches deployments/scale', { resources: [gr(['*/scale'], 'apps')] }, pod({ apiGroup: 'apps', resource: 'deployments', subresource: 'scale' }), true],
    ['resources: "*/scale" does not match the resource itself', { resources: [gr(['*/scale'], 'apps')] }, pod({ apiGroup: 'apps', resource: 'deployments' }), false],
    ['resources: "*/log" does not match pods/exec', { resources: [gr(['*/log'])] }, pod({ subresource: 'exec' }), false],
    ['resources: "pods/*" matches pods/exec', { resources: [gr(['pods/*'])] }, pod({ subresource: 'exec' }), true],
    ['resources: "pods/*" also matches pods itself', { resources: [gr(['pods/*'])] }, pod(), true],
    ['resources: "pods/*" not services/proxy', { resources: [gr(['pods/*'])] }, pod({ resource: 'services', subresource: 'proxy' }), false],
    ['resources: "*/*" matches nothing (as in kube)', { resources: [gr(['*/*'])] }, pod({ subresource: 'log' }), false],
    ['resourceNames: listed', { resources: [gr(['pods'], '', ['web-0'])] }, pod(), true],
    ['resourceNames: other name', { resources: [gr(['pods'], '', ['web-1'])] }, pod(), false],
    ['resourceNames: a list request has no name', { resources: [gr(['pods'], '', ['web-0'])] }, pod({ name: '' }), false],
    ['resourceNames with "*"', { resources: [gr(['*'], '', ['web-0'])] }, pod(), true],
    ['resourceNames with "pods/*"', { resources: [gr(['pods/*'], '', ['web-0'])] }, pod({ subresource: 'log' }), true],
    ['resources: never a non-resource request', { resources: [gr(['*'])] }, req({ path: '/api' }), false],
    ['nonResourceURLs: exact', { nonResourceURLs: ['/version'] }, req({ path: '/version' }), true],
    ['nonResourceURLs: exact is not a prefix', { nonResourceURLs: ['/version'] }, req({ path: '/version/x' }), false],
    ['nonResourceURLs: trailing * is a prefix', { nonResourceURLs: ['/healthz*'] }, req({ path: '/healthz/etcd' }), true],
    ['nonResourceURLs: trailing * matches the bare prefix', { nonResourceURLs: ['/healthz*'] }, req({ path: '/healthz' }), true],
    ['nonResourceURLs: "/api/*" does not match /api', { nonResourceURLs: ['/api/*'] }, req({ path: '/api' }), false],
    ['nonResourceURLs: "*" matches every path', { nonResourceURLs: ['*'] }, req({ path: '/anything' }), true],
    ['nonResourceURLs: never a resource request', { nonResourceURLs: ['*'] }, pod(), false],
    ['nonResourceURLs AND verbs', { verbs: ['post'], nonResourceURLs: ['/logs*'] }, req({ verb: 'get', path: '/logs/a' }), false],
    ['users AND verbs AND resources AND namespaces: all match', { users: ['tim@k8s.io'], verbs: ['get'], resources: [gr(['pods'])], namespaces: ['default'] }, pod(), true],
    ['users AND verbs AND resources AND namespaces: namespace differs', { users: ['tim@k8s.io'], verbs: ['get'], resources: [gr(['pods'])], namespaces: ['prod'] }, pod(), false],
    ['userGroups AND namespaces (no resources) on a node', { userGroups: ['humans'], namespaces: [''] }, node, true],
  ];
  test.each(cases)('%s', (_, r, a, matches) => {
    const p: Policy = { apiVersion: 'audit.k8s.io/v1', omitStages: [], omitManagedFields: false, rules: [rule('Request', r)] };
    expect(compilePolicy(p).evaluate(a).rule).toBe(matches ? 0 : -1);
  });

  test('the first matching rule decides, later ones are not consulted', () => {
    const p: Policy = {
      apiVersion: 'audit.k8s.io/v1',
      omitStages: ['RequestReceived'],
      omitManagedFields: false,
      rules: [rule('None', { verbs: ['watch'] }), rule('Metadata', { resources: [gr(['secrets'])], omitStages: ['Panic'], omitManagedFields: true }), rule('RequestResponse')],
    };
    const ev = compilePolicy(p);
    expect(ev.evaluate(pod({ verb: 'watch', resource: 'secrets' }))).toMatchObject({ rule: 0, level: 'None' });
    expect(ev.evaluate(pod({ resource: 'secrets' }))).toEqual({ rule: 1, level: 'Metadata', omitStages: bits(['RequestReceived', 'Panic']), omitManagedFields: true });
    expect(ev.evaluate(pod())).toEqual({ rule: 2, level: 'RequestResponse', omitStages: bits(['RequestReceived']), omitManagedFields: false });
  });
});
