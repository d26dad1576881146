// Reads an audit.k8s.io Policy file (YAML or JSON, v1 or v1beta1) and validates it as kube-apiserver does
// (pkg/audit/policy/reader.go + pkg/apis/audit/validation): every problem is reported, each naming its field
// (`rules[3].level`) and the line it is on; an unknown field is a warning, as the API server's decoder ignores it.

import { readFileSync } from 'node:fs';
import type { Document, Node } from 'yaml';
import { yaml } from '../../config/lazy-yaml.js';
import { ErrorCodes, TailshipError, type ErrorCode } from '../../errors.js';
import { LEVELS, STAGES, type GroupResources, type Level, type Policy, type PolicyRule, type Stage } from './types.js';

/** One problem or warning: the field path (`rules[3].level`), its line in the file (0 unknown), and what is wrong. */
export interface PolicyIssue {
  field: string;
  line: number;
  message: string;
}

export interface LoadedPolicy {
  file: string;
  policy: Policy;
  warnings: PolicyIssue[];
}

/** A policy that cannot be used: `issues` lists every problem (the message joins them). */
export class PolicyError extends TailshipError {
  constructor(
    code: ErrorCode,
    readonly file: string,
    readonly issues: PolicyIssue[],
    fix: string,
  ) {
    super(code, `${file}: ${issues.map(formatIssue).join('; ')}`, fix);
  }
}

export function formatIssue(i: PolicyIssue): string {
  const where = i.field ? `${i.field}${i.line ? ` (line ${i.line})` : ''}: ` : i.line ? `line ${i.line}: ` : '';
  return `${where}${i.message}`;
}

const VERSIONS = ['audit.k8s.io/v1', 'audit.k8s.io/v1beta1'];
const POLICY_FIELDS = new Set(['apiVersion', 'kind', 'metadata', 'rules', 'omitStages', 'omitManagedFields']);
const RULE_FIELDS = new Set(['level', 'users', 'userGroups', 'verbs', 'resources', 'namespaces', 'nonResourceURLs', 'omitStages', 'omitManagedFields']);
const GROUP_FIELDS = new Set(['group', 'resources', 'resourceNames']);
const FIX = 'correct the policy file (the Kubernetes audit Policy reference: https://kubernetes.io/docs/reference/config-api/apiserver-audit.v1/)';

/** Reads and validates a policy file; throws PolicyError (a TailshipError) when it cannot be used. */
export function loadPolicyFile(file: string): LoadedPolicy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new PolicyError(ErrorCodes.POLICY_UNREADABLE, file, [{ field: '', line: 0, message: `cannot read the audit policy: ${err.code ?? err.message}` }], 'give the path of a readable audit policy file (--audit-policy FILE)');
  }
  return parsePolicy(text, file);
}

/** Parses and validates policy text; `file` names it in errors. */
export function parsePolicy(text: string, file: string): LoadedPolicy {
  const lines = new (yaml().LineCounter)();
  // YAML 1.1, as the API server's decoder (go-yaml v2) reads it; JSON is YAML too.
  const docs = yaml().parseAllDocuments(text, { version: '1.1', lineCounter: lines, uniqueKeys: false, prettyErrors: false });
  const lineOf = (n: Node | null | undefined): number => (n?.range ? lines.linePos(n.range[0]).line : 0);
  const list = Array.isArray(docs) ? docs : [];
  const syntax = list.flatMap((d) => d.errors).map((e) => ({ field: '', line: lines.linePos(e.pos[0]).line, message: `not valid YAML or JSON: ${e.message.split('\n')[0]}` }));
  if (syntax.length > 0) throw new PolicyError(ErrorCodes.POLICY_SYNTAX, file, syntax, 'fix the YAML/JSON syntax at that line');
  const nonEmpty = list.filter((d) => d.contents !== null);
  if (nonEmpty.length > 1) {
    throw new PolicyError(ErrorCodes.POLICY_SYNTAX, file, [{ field: '', line: lineOf(nonEmpty[1]!.contents), message: `holds ${nonEmpty.length} YAML documents` }], 'keep one Policy document in the file');
  }
  const doc = nonEmpty[0] as Document.Parsed | undefined;
  const root = doc?.contents;
  if (!doc || !yaml().isMap(root)) {
    throw new PolicyError(ErrorCodes.POLICY_NOT_A_POLICY, file, [{ field: '', line: lineOf(root), message: !root ? 'is empty' : yaml().isSeq(root) ? 'is a list (a bare list of rules?), not a Policy object' : 'is not a YAML/JSON object' }], 'write an audit Policy: apiVersion: audit.k8s.io/v1, kind: Policy, rules: [...]');
  }
  const value = doc.toJS() as Record<string, unknown>;
  const nodeAt = (p: Array<string | number>): Node | null | undefined => doc.getIn(p, true) as Node | null | undefined;
  const at = (p: Array<string | number>): number => lineOf(nodeAt(p)) || lineOf(nodeAt(p.slice(0, -1)));
  const errors: PolicyIssue[] = [];
  const warnings: PolicyIssue[] = [];

  const apiVersion = value.apiVersion;
  if (value.kind !== 'Policy' || typeof apiVersion !== 'string' || !VERSIONS.includes(apiVersion)) {
    const got = `apiVersion ${JSON.stringify(apiVersion ?? null)}, kind ${JSON.stringify(value.kind ?? null)}`;
    throw new PolicyError(
      ErrorCodes.POLICY_NOT_A_POLICY,
      file,
      [{ field: '', line: lineOf(root), message: `is not an audit policy (${got}); expected apiVersion audit.k8s.io/v1 (or v1beta1) and kind Policy` }],
      typeof apiVersion === 'string' && apiVersion.startsWith('audit.k8s.io/') ? 'write apiVersion: audit.k8s.io/v1 and kind: Policy' : 'give a file that holds one audit.k8s.io Policy (a ConfigMap or a bare list of rules is not one)',
    );
  }
  if (apiVersion !== 'audit.k8s.io/v1') warnings.push({ field: 'apiVersion', line: at(['apiVersion']), message: `"${apiVersion}" is deprecated; use "audit.k8s.io/v1" (recent API servers accept only v1)` });
  unknownFields(value, POLICY_FIELDS, '', [], at, warnings);

  const omitStages = stages(value.omitStages, 'omitStages', ['omitStages'], at, errors);
  const omitManagedFields = bool(value.omitManagedFields, 'omitManagedFields', ['omitManagedFields'], at, errors) ?? false;
  const rules: PolicyRule[] = [];
  const rawRules = value.rules ?? [];
  if (!Array.isArray(rawRules)) errors.push({ field: 'rules', line: at(['rules']), message: 'must be a list of rules' });
  else rawRules.forEach((r, i) => {
    const rule = parseRule(r, i, at, errors, warnings);
    if (rule) rules.push(rule);
  });
  if (errors.length > 0) throw new PolicyError(ErrorCodes.POLICY_INVALID, file, errors, FIX);
  if (rules.length === 0) {
    throw new PolicyError(ErrorCodes.POLICY_NO_RULES, file, [{ field: 'rules', line: at(['rules']) || lineOf(root), message: 'the policy has no rules (the API server refuses a policy with 0 rules)' }], 'add at least one rule, e.g. "- level: Metadata" as a catch-all at the end');
  }
  return { file, policy: { apiVersion, rules, omitStages, omitManagedFields }, warnings };
}

type At = (p: Array<string | number>) => number;

function parseRule(r: unknown, i: number, at: At, errors: PolicyIssue[], warnings: PolicyIssue[]): PolicyRule | undefined {
  const base = `rules[${i}]`;
  const p: Array<string | number> = ['rules', i];
  if (r === null || typeof r !== 'object' || Array.isArray(r)) {
    errors.push({ field: base, line: at(p), message: 'must be an object (a rule with a level)' });
    return undefined;
  }
  const o = r as Record<string, unknown>;
  unknownFields(o, RULE_FIELDS, base, p, at, warnings);
  const n = errors.length;
  let level: Level = 'None';
  if (o.level === undefined || o.level === null || o.level === '') errors.push({ field: `${base}.level`, line: at([...p, 'level']), message: `Required value: give one of ${LEVELS.join(', ')}` });
  else if (typeof o.level !== 'string' || !(LEVELS as readonly string[]).includes(o.level)) {
    errors.push({ field: `${base}.level`, line: at([...p, 'level']), message: `Unsupported value: ${JSON.stringify(o.level)}; supported values: ${LEVELS.join(', ')}` });
  } else level = o.level as Level;
  const strs = (k: string) => strings(o[k], `${base}.${k}`, [...p, k], at, errors);
  const nonResourceURLs = strs('nonResourceURLs');
  nonResourceURLs.forEach((url, j) => {
    if (url === '*') return;
    const field = `${base}.nonResourceURLs[${j}]`;
    const line = at([...p, 'nonResourceURLs', j]);
    if (!url.startsWith('/')) errors.push({ field, line, message: `Invalid value: ${JSON.stringify(url)}: non-resource URL rules must begin with a '/' character` });
    if (url !== '' && url.slice(0, -1).includes('*')) errors.push({ field, line, message: `Invalid value: ${JSON.stringify(url)}: non-resource URL wildcards '*' must be the final character of the rule` });
  });
  const resources = groupResources(o.resources, base, p, at, errors, warnings);
  const namespaces = strs('namespaces');
  if (nonResourceURLs.length > 0 && (resources.length > 0 || namespaces.length > 0)) {
    errors.push({ field: `${base}.nonResourceURLs`, line: at([...p, 'nonResourceURLs']), message: 'Invalid value: rules cannot apply to both regular resources and non-resource URLs' });
  }
  const rule: PolicyRule = {
    level,
    users: strs('users'),
    userGroups: strs('userGroups'),
    verbs: strs('verbs'),
    resources,
    namespaces,
    nonResourceURLs,
    omitStages: stages(o.omitStages, `${base}.omitStages`, [...p, 'omitStages'], at, errors),
  };
  const omf = bool(o.omitManagedFields, `${base}.omitManagedFields`, [...p, 'omitManagedFields'], at, errors);
  if (omf !== undefined) rule.omitManagedFields = omf;
  return errors.length === n ? rule : undefined;
}

function groupResources(v: unknown, base: string, p: Array<string | number>, at: At, errors: PolicyIssue[], warnings: PolicyIssue[]): GroupResources[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    errors.push({ field: `${base}.resources`, line: at([...p, 'resources']), message: 'must be a list of {group, resources, resourceNames}' });
    return [];
  }
  const out: GroupResources[] = [];
  v.forEach((g, j) => {
    const field = `${base}.resources[${j}]`;
    const gp = [...p, 'resources', j];
    if (g === null || typeof g !== 'object' || Array.isArray(g)) {
      errors.push({ field, line: at(gp), message: 'must be an object {group, resources, resourceNames}' });
      return;
    }
    const o = g as Record<string, unknown>;
    unknownFields(o, GROUP_FIELDS, field, gp, at, warnings);
    let group = '';
    if (o.group !== undefined && o.group !== null) {
      if (typeof o.group !== 'string') errors.push({ field: `${field}.group`, line: at([...gp, 'group']), message: 'must be a string' });
      else {
        group = o.group;
        if (group !== '' && !isDnsSubdomain(group)) {
          errors.push({
            field: `${base}.resources.group`,
            line: at([...gp, 'group']),
            message: `Invalid value: ${JSON.stringify(group)}: a lowercase RFC 1123 subdomain (the API group without a version, e.g. rbac.authorization.k8s.io)`,
          });
        }
      }
    }
    const resources = strings(o.resources, `${field}.resources`, [...gp, 'resources'], at, errors);
    const resourceNames = strings(o.resourceNames, `${field}.resourceNames`, [...gp, 'resourceNames'], at, errors);
    if (resourceNames.length > 0 && resources.length === 0) {
      errors.push({ field: `${base}.resources.resourceNames`, line: at([...gp, 'resourceNames']), message: 'Invalid value: using resourceNames requires at least one resource' });
    }
    out.push({ group, resources, resourceNames });
  });
  return out;
}

/** k8s.io/apimachinery IsDNS1123Subdomain. */
function isDnsSubdomain(s: string): boolean {
  return s.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(s);
}

function strings(v: unknown, field: string, p: Array<string | number>, at: At, errors: PolicyIssue[]): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    errors.push({ field, line: at(p), message: `must be a list of strings, not ${describe(v)}` });
    return [];
  }
  const out: string[] = [];
  v.forEach((s, j) => {
    if (typeof s === 'string') out.push(s);
    else errors.push({ field: `${field}[${j}]`, line: at([...p, j]), message: `must be a string, not ${describe(s)} (quote it)` });
  });
  return out;
}

function stages(v: unknown, field: string, p: Array<string | number>, at: At, errors: PolicyIssue[]): Stage[] {
  const out: Stage[] = [];
  strings(v, field, p, at, errors).forEach((s, j) => {
    if ((STAGES as readonly string[]).includes(s)) out.push(s as Stage);
    else errors.push({ field: `${field}[${j}]`, line: at([...p, j]), message: `Invalid value: ${JSON.stringify(s)}: allowed stages are ${STAGES.join(',')}` });
  });
  return out;
}

function bool(v: unknown, field: string, p: Array<string | number>, at: At, errors: PolicyIssue[]): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  errors.push({ field, line: at(p), message: `must be true or false, not ${describe(v)}` });
  return undefined;
}

function unknownFields(o: Record<string, unknown>, known: Set<string>, base: string, p: Array<string | number>, at: At, warnings: PolicyIssue[]): void {
  for (const k of Object.keys(o)) {
    if (known.has(k)) continue;
    const field = base ? `${base}.${k}` : k;
    warnings.push({ field, line: at([...p, k]), message: `unknown field "${k}", ignored (as the API server ignores it); known fields: ${[...known].join(', ')}` });
  }
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}
