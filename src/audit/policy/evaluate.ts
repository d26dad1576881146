// kube-apiserver's policy checker (pkg/audit/policy/checker.go: EvaluatePolicyRule, ruleMatches,
// ruleMatchesResource, ruleMatchesNonResource, pathMatches), compiled once into sets so that one evaluation is a
// few hash lookups per rule. Pure: attributes in, decision out.

import { levelRank, stageBit, type Decision, type Level, type Policy, type PolicyRule, type RequestAttributes } from './types.js';

interface CompiledGroup {
  /** No `resources`: every resource of the group. */
  all: boolean;
  /** `resourceNames` (undefined: every name). */
  names?: Set<string>;
  /** `res` and `res/sub` entries, and `*`. */
  exact: Set<string>;
  star: boolean;
  /** `*\/sub` entries (any resource): the subresources. */
  anyResourceSub: Set<string>;
  /** `res/*` entries: the resources (also matches `res` itself, as kube does). */
  allSubsOf: Set<string>;
}

interface CompiledRule {
  index: number;
  level: Level;
  users?: Set<string>;
  userGroups?: Set<string>;
  verbs?: Set<string>;
  /** namespaces or resources given: the rule only matches resource requests. */
  resourceRule: boolean;
  namespaces?: Set<string>;
  /** group → its entries (undefined: no `resources`, every resource). */
  groups?: Map<string, CompiledGroup[]>;
  nonResource?: { any: boolean; exact: Set<string>; prefixes: string[] };
  decision: Decision;
}

export interface Evaluator {
  readonly policy: Policy;
  evaluate(attrs: RequestAttributes): Decision;
}

const set = (xs: string[]): Set<string> | undefined => (xs.length > 0 ? new Set(xs) : undefined);

function compileGroup(g: PolicyRule['resources'][number]): CompiledGroup {
  const c: CompiledGroup = { all: g.resources.length === 0, exact: new Set(), star: false, anyResourceSub: new Set(), allSubsOf: new Set() };
  if (g.resourceNames.length > 0) c.names = new Set(g.resourceNames);
  for (const res of g.resources) {
    if (res === '*') c.star = true;
    c.exact.add(res);
    if (res.startsWith('*/')) c.anyResourceSub.add(res.slice(2));
    if (res.endsWith('/*')) c.allSubsOf.add(res.slice(0, -2));
  }
  return c;
}

function compileRule(r: PolicyRule, index: number, policy: Policy): CompiledRule {
  let omit = 0;
  for (const s of policy.omitStages) omit |= stageBit(s);
  for (const s of r.omitStages) omit |= stageBit(s);
  const c: CompiledRule = {
    index,
    level: r.level,
    resourceRule: r.namespaces.length > 0 || r.resources.length > 0,
    decision: { rule: index, level: r.level, omitStages: omit, omitManagedFields: r.omitManagedFields ?? policy.omitManagedFields },
  };
  const users = set(r.users);
  if (users) c.users = users;
  const groups = set(r.userGroups);
  if (groups) c.userGroups = groups;
  const verbs = set(r.verbs);
  if (verbs) c.verbs = verbs;
  const ns = set(r.namespaces);
  if (ns) c.namespaces = ns;
  if (r.resources.length > 0) {
    c.groups = new Map();
    for (const g of r.resources) {
      const list = c.groups.get(g.group) ?? [];
      list.push(compileGroup(g));
      c.groups.set(g.group, list);
    }
  }
  if (r.nonResourceURLs.length > 0) {
    const nr = { any: false, exact: new Set<string>(), prefixes: [] as string[] };
    for (const spec of r.nonResourceURLs) {
      if (spec === '*') nr.any = true;
      nr.exact.add(spec);
      // strings.TrimRight(spec, "*"): every trailing star goes
      if (spec.endsWith('*')) nr.prefixes.push(spec.replace(/\*+$/, ''));
    }
    c.nonResource = nr;
  }
  return c;
}

function groupMatches(g: CompiledGroup, a: RequestAttributes, combined: string): boolean {
  if (g.all) return true;
  if (g.names && !g.names.has(a.name)) return false;
  if (g.star || g.exact.has(combined)) return true;
  if (a.subresource !== '' && g.anyResourceSub.has(a.subresource)) return true;
  return g.allSubsOf.has(a.resource);
}

function matchesResource(r: CompiledRule, a: RequestAttributes): boolean {
  if (!a.resourceRequest) return false;
  if (r.namespaces && !r.namespaces.has(a.namespace)) return false; // cluster-scoped: ""
  if (!r.groups) return true;
  const entries = r.groups.get(a.apiGroup);
  if (!entries) return false;
  const combined = a.subresource !== '' ? `${a.resource}/${a.subresource}` : a.resource;
  for (const g of entries) if (groupMatches(g, a, combined)) return true;
  return false;
}

function matchesNonResource(nr: NonNullable<CompiledRule['nonResource']>, a: RequestAttributes): boolean {
  if (a.resourceRequest) return false;
  if (nr.any || nr.exact.has(a.path)) return true;
  for (const p of nr.prefixes) if (a.path.startsWith(p)) return true;
  return false;
}

function ruleMatches(r: CompiledRule, a: RequestAttributes): boolean {
  if (r.users && (!a.hasUser || !r.users.has(a.username))) return false;
  if (r.userGroups) {
    if (!a.hasUser) return false;
    let matched = false;
    for (const g of a.groups) {
      if (r.userGroups.has(g)) {
        matched = true;
        break;
      }
    }
    if (!matched) return false;
  }
  if (r.verbs && !r.verbs.has(a.verb)) return false;
  if (r.resourceRule) return matchesResource(r, a);
  if (r.nonResource) return matchesNonResource(r.nonResource, a);
  return true;
}

/** Compiles a loaded policy; the returned evaluator decides like kube's policyRuleEvaluator. */
export function compilePolicy(policy: Policy): Evaluator {
  const rules = policy.rules.map((r, i) => compileRule(r, i, policy));
  let policyOmit = 0;
  for (const s of policy.omitStages) policyOmit |= stageBit(s);
  const none: Decision = Object.freeze({ rule: -1, level: 'None', omitStages: policyOmit, omitManagedFields: policy.omitManagedFields });
  return {
    policy,
    evaluate(a) {
      for (const r of rules) if (ruleMatches(r, a)) return r.decision;
      return none;
    },
  };
}

/** True when an event at `stage` is dropped by the decision (level None, or an omitted stage). */
export function dropReason(d: Decision, stage: string): 'policy' | 'stage' | undefined {
  if (d.level === 'None') return 'policy';
  if ((d.omitStages & stageBit(stage)) !== 0) return 'stage';
  return undefined;
}

export { levelRank };
