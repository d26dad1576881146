// An independent, naive reference of SPEC §6 for the tests: the policy as plain YAML data (no loader), each event
// JSON.parse'd, and kube-apiserver's checker.go transcribed line by line (hasString loops, strings.TrimRight …).
// Slow and simple on purpose: the module under test is compiled, scans text and splices; this one does neither.
import fs from 'node:fs';
import { parse } from 'yaml';

type Obj = Record<string, any>;
const LEVELS = ['None', 'Metadata', 'Request', 'RequestResponse'];

export interface RefPolicy {
  rules: Obj[];
  omitStages: string[];
  omitManagedFields: boolean;
}

export function readRefPolicy(file: string): RefPolicy {
  const p = parse(fs.readFileSync(file, 'utf8'), { version: '1.1' }) as Obj;
  return { rules: p.rules ?? [], omitStages: p.omitStages ?? [], omitManagedFields: p.omitManagedFields === true };
}

const hasString = (slice: unknown, v: string) => Array.isArray(slice) && slice.some((s) => s === v);
const len = (x: unknown) => (Array.isArray(x) ? x.length : 0);
const str = (v: unknown) => (typeof v === 'string' ? v : '');
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

interface Attrs {
  user: { name: string; groups: string[] } | null;
  verb: string;
  resourceRequest: boolean;
  namespace: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  name: string;
  path: string;
}

export function refAttrs(ev: Obj): Attrs {
  const u = ev.user;
  const r = ev.objectRef;
  return {
    user: isObj(u) ? { name: str(u.username), groups: Array.isArray(u.groups) ? u.groups.filter((g: unknown) => typeof g === 'string') : [] } : null,
    verb: str(ev.verb),
    resourceRequest: isObj(r),
    namespace: isObj(r) ? str(r.namespace) : '',
    apiGroup: isObj(r) ? str(r.apiGroup) : '',
    resource: isObj(r) ? str(r.resource) : '',
    subresource: isObj(r) ? str(r.subresource) : '',
    name: isObj(r) ? str(r.name) : '',
    path: str(ev.requestURI).split('?')[0]!,
  };
}

function pathMatches(path: string, spec: string): boolean {
  if (spec === '*') return true;
  if (spec === path) return true;
  if (spec.endsWith('*') && path.startsWith(spec.replace(/\*+$/, ''))) return true;
  return false;
}

function ruleMatchesResource(r: Obj, a: Attrs): boolean {
  if (!a.resourceRequest) return false;
  if (len(r.namespaces) > 0 && !hasString(r.namespaces, a.namespace)) return false;
  if (len(r.resources) === 0) return true;
  const combined = a.subresource !== '' ? `${a.resource}/${a.subresource}` : a.resource;
  for (const gr of r.resources as Obj[]) {
    if ((gr.group ?? '') === a.apiGroup) {
      if (len(gr.resources) === 0) return true;
      for (const res of gr.resources as string[]) {
        if (len(gr.resourceNames) === 0 || hasString(gr.resourceNames, a.name)) {
          if (res === combined || res === '*') return true;
          if (a.subresource.length > 0 && res.startsWith('*/') && a.subresource === res.slice(2)) return true;
          if (res.endsWith('/*') && a.resource === res.slice(0, -2)) return true;
        }
      }
    }
  }
  return false;
}

export function refRuleMatches(r: Obj, a: Attrs): boolean {
  if (len(r.users) > 0 && (a.user === null || !hasString(r.users, a.user.name))) return false;
  if (len(r.userGroups) > 0) {
    if (a.user === null) return false;
    if (!a.user.groups.some((g) => hasString(r.userGroups, g))) return false;
  }
  if (len(r.verbs) > 0 && !hasString(r.verbs, a.verb)) return false;
  if (len(r.namespaces) > 0 || len(r.resources) > 0) return ruleMatchesResource(r, a);
  if (len(r.nonResourceURLs) > 0) return !a.resourceRequest && (r.nonResourceURLs as string[]).some((s) => pathMatches(a.path, s));
  return true;
}

export interface RefOutcome {
  rule: number | null;
  level: string;
  kept: boolean;
  /** The event as it would be shipped (undefined when dropped). */
  event?: Obj;
  changed: boolean;
}

function dropMf(o: unknown): boolean {
  if (!isObj(o)) return false;
  let c = false;
  if (isObj(o.metadata) && 'managedFields' in o.metadata) {
    delete o.metadata.managedFields;
    c = true;
  }
  if (Array.isArray(o.items)) for (const it of o.items) if (dropMf(it)) c = true;
  return c;
}

export function refEvaluate(p: RefPolicy, raw: string): RefOutcome {
  const ev = JSON.parse(raw) as Obj;
  const a = refAttrs(ev);
  let rule: number | null = null;
  for (let i = 0; i < p.rules.length; i++) {
    if (refRuleMatches(p.rules[i]!, a)) {
      rule = i;
      break;
    }
  }
  const r = rule === null ? undefined : p.rules[rule]!;
  const level = r ? (r.level as string) : 'None';
  const omit = new Set([...p.omitStages, ...((r?.omitStages as string[]) ?? [])]);
  const omf = r && typeof r.omitManagedFields === 'boolean' ? r.omitManagedFields : p.omitManagedFields;
  if (level === 'None' || omit.has(ev.stage)) return { rule, level, kept: false, changed: false };
  const target = LEVELS.indexOf(level);
  let changed = false;
  if (target < 2 && 'requestObject' in ev) (delete ev.requestObject, (changed = true));
  if (target < 3 && 'responseObject' in ev) (delete ev.responseObject, (changed = true));
  if (LEVELS.indexOf(ev.level) > target) (ev.level = level), (changed = true);
  if (omf && target >= 2) {
    if (dropMf(ev.requestObject)) changed = true;
    if (dropMf(ev.responseObject)) changed = true;
  }
  return { rule, level, kept: true, event: ev, changed };
}
