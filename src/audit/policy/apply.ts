// Applies a policy decision to one event's JSON text (SPEC §6): drop it (level None, omitted stage), or lower what
// it holds: Metadata removes requestObject and responseObject, Request removes responseObject, and the event's
// `level` becomes the decided one when that is lower (what the API server would have written); omitManagedFields
// removes metadata.managedFields of both bodies (and of each item of a list). A level never raises anything.
// An event that keeps everything is returned as the same text: nothing is built for it.

import { dropReason, type Evaluator } from './evaluate.js';
import { attributesOf, M_HEAD, M_LEVEL, M_REQUEST_OBJECT, M_RESPONSE_OBJECT, scanEvent, scanRest } from './scan-event.js';
import { levelRank, type Decision, type RequestAttributes } from './types.js';

export interface LineOutcome {
  decision: Decision;
  stage: string;
  auditID: string;
  /** Why the event is dropped; undefined when kept. */
  dropped?: 'policy' | 'stage';
  /** The event text to ship when kept: `raw` itself when unchanged. */
  out?: string;
}

const REQUEST = 2;
const REQUEST_RESPONSE = 3;

/** The decision for one event's attributes, and whether it drops the event (both paths, scan and parse). */
function decide(ev: Evaluator, a: { attrs: RequestAttributes; stage: string; auditID: string }): LineOutcome {
  const decision = ev.evaluate(a.attrs);
  const outcome: LineOutcome = { decision, stage: a.stage, auditID: a.auditID };
  const dropped = dropReason(decision, a.stage);
  if (dropped) outcome.dropped = dropped;
  return outcome;
}

/** Decides and applies the policy to one JSON object text. */
export function applyPolicy(raw: string, ev: Evaluator): LineOutcome {
  const scanned = scanEvent(raw);
  if (!scanned) return applyParsed(raw, ev);
  const outcome = decide(ev, scanned);
  if (outcome.dropped) return outcome;
  const { decision } = outcome;
  const target = levelRank(decision.level);
  const lowerLevel = levelRank(scanned.level) > target;
  const omf = decision.omitManagedFields && target >= REQUEST;
  const mayHaveBodies = scanned.bodies > 0 || scanned.restAt >= 0;
  if (!lowerLevel && (!mayHaveBodies || (target === REQUEST_RESPONSE && !omf))) {
    outcome.out = raw;
    return outcome;
  }
  // Something may be cut: the spans of every member are needed (the scan may have stopped before the bodies).
  if (scanned.restAt >= 0 && !scanRest(raw)) return applyParsed(raw, ev);
  const { spans, kinds } = scanned;
  const parts: string[] = [];
  let changed = false;
  for (let m = 0; m < kinds.length; m++) {
    const ks = spans[m * 3]!;
    const vs = spans[m * 3 + 1]!;
    const ve = spans[m * 3 + 2]!;
    const kind = kinds[m]!;
    if ((kind === M_REQUEST_OBJECT && target < REQUEST) || (kind === M_RESPONSE_OBJECT && target < REQUEST_RESPONSE)) {
      changed = true;
      continue;
    }
    if (kind === M_HEAD) {
      if (lowerLevel) {
        parts.push(`${raw.slice(ks, scanned.levelAt)}${decision.level}${raw.slice(scanned.levelEnd, ve)}`);
        changed = true;
      } else parts.push(raw.slice(ks, ve));
      continue;
    }
    if (kind === M_LEVEL && lowerLevel) {
      parts.push(`"level":"${decision.level}"`);
      changed = true;
      continue;
    }
    if (omf && kind >= M_REQUEST_OBJECT) {
      const body = raw.slice(vs, ve);
      const stripped = stripManagedFieldsText(body);
      if (stripped !== body) {
        parts.push(`${raw.slice(ks, vs)}${stripped}`);
        changed = true;
        continue;
      }
    }
    parts.push(raw.slice(ks, ve));
  }
  outcome.out = changed ? `{${parts.join(',')}}` : raw;
  return outcome;
}

/** The JSON.parse path, for an event the scan leaves (an escaped key): the same decision and changes. */
function applyParsed(raw: string, ev: Evaluator): LineOutcome {
  const obj = JSON.parse(raw) as Record<string, unknown>;
  const a = attributesOf(obj);
  const outcome = decide(ev, a);
  if (outcome.dropped) return outcome;
  const { decision } = outcome;
  const target = levelRank(decision.level);
  let changed = false;
  if (target < REQUEST && 'requestObject' in obj) {
    delete obj.requestObject;
    changed = true;
  }
  if (target < REQUEST_RESPONSE && 'responseObject' in obj) {
    delete obj.responseObject;
    changed = true;
  }
  if (levelRank(a.level) > target) {
    obj.level = decision.level;
    changed = true;
  }
  if (decision.omitManagedFields && target >= REQUEST) {
    for (const k of ['requestObject', 'responseObject']) if (k in obj && stripManagedFields(obj[k])) changed = true;
  }
  outcome.out = changed ? JSON.stringify(obj) : raw;
  return outcome;
}

/** Body text without managedFields; the same string when it has none (so nothing is re-serialised). */
export function stripManagedFieldsText(body: string): string {
  if (!body.includes('"managedFields"')) return body;
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return body;
  }
  return stripManagedFields(v) ? JSON.stringify(v) : body;
}

/** Removes metadata.managedFields of an object and of each item of a list; true when something was removed. */
export function stripManagedFields(v: unknown): boolean {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  let changed = false;
  const meta = o.metadata;
  if (meta !== null && typeof meta === 'object' && !Array.isArray(meta) && 'managedFields' in meta) {
    delete (meta as Record<string, unknown>).managedFields;
    changed = true;
  }
  if (Array.isArray(o.items)) for (const item of o.items) if (stripManagedFields(item)) changed = true;
  return changed;
}
