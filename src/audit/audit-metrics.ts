import type { Registry } from 'prom-client';
import { counterTally, type Tally } from '../observe/counter-tally.js';
import { eventTime } from '../parse/parse-line.js';
import type { EventProcessor } from '../process/stage.js';
import { nestedNumber, nestedString, nestedStrings, spanString, type Fields } from './json-scan.js';
import { isIndexed, topFields } from './json-top.js';
import { tailStrings } from './json-tail.js';
import { tableFacts, type AuditFacts, type TableFacts } from './audit-facts-table.js';
import { auditStageMetrics, newDurationTally, tallyDuration } from './metrics-registry.js';

/**
 * Audit-derived metrics (SPEC §6), from the events as read (the first stage, before the policy): requests by
 * verb, code class and kind of user, the latency of completed requests, and a bounded counter of
 * security-relevant requests for the example alert rules (docs/alerts/). Label values come from fixed sets, so
 * a crafted event cannot blow up the cardinality. Observes only: returns the event unchanged.
 */

/** The verbs that are their own label, each mapped to its constant (a label outlives the line it was read from). */
const VERBS = new Map(
  [
    'get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', 'proxy',
    // non-resource requests carry the lowercased HTTP method
    'post', 'put', 'head', 'options',
  ].map((v) => [v, v]),
);

export type UserKind = 'serviceaccount' | 'node' | 'anonymous' | 'system' | 'human';

export function userKindOf(username: string | undefined): UserKind {
  if (username === undefined || username === '' || username === 'system:anonymous') return 'anonymous';
  if (username.startsWith('system:serviceaccount:')) return 'serviceaccount';
  if (username.startsWith('system:node:')) return 'node';
  if (username.startsWith('system:')) return 'system';
  return 'human';
}

/** `2xx` … `5xx` (and `1xx` for the 101 of exec/attach upgrades); `none` when the event has no valid code. */
export function codeClassOf(code: number | undefined): string {
  return CODE_CLASSES[codeClassIndex(code)]!;
}

const CODE_CLASSES = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'];

function codeClassIndex(code: number | undefined): number {
  if (code === undefined || !Number.isInteger(code) || code < 100 || code > 599) return 0;
  return Math.floor(code / 100);
}

export function verbLabel(verb: string | undefined): string {
  if (verb === undefined || verb === '') return 'none';
  // the label's own constant, not the event's text (own-string.ts)
  return VERBS.get(verb) ?? 'other';
}

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
const READ_VERBS = new Set(['get', 'list', 'watch']);
const LONG_RUNNING_SUB = new Set(['exec', 'attach', 'portforward', 'proxy']);

export type { AuditFacts };

const REF_KEYS = ['resource', 'subresource', 'apiGroup'] as const;

export function auditFacts(raw: string, top: Fields): AuditFacts {
  const stage = spanString(raw, top.get('stage'));
  // objectRef's three values in one walk of it
  const [resource, subresource, apiGroup] = nestedStrings(raw, top.get('objectRef'), REF_KEYS);
  return {
    verb: spanString(raw, top.get('verb')),
    stage,
    username: nestedString(raw, top.get('user'), 'username'),
    // a RequestReceived event has no response yet: not looking for one spares a walk to the end of the line
    code: stage === 'RequestReceived' ? undefined : nestedNumber(raw, top.get('responseStatus'), 'code'),
    resource,
    subresource,
    apiGroup,
  };
}

const TIME_KEYS = ['requestReceivedTimestamp', 'stageTimestamp'] as const;

/** The two timestamps: the API server writes them after the bodies, so they are read from the end first. */
export function timestamps(raw: string, top: Fields): [string | undefined, string | undefined] {
  // the parser's member table knows where they are; a walk of the top level would cross the bodies first
  if (isIndexed(top)) return [spanString(raw, top.get('requestReceivedTimestamp')), spanString(raw, top.get('stageTimestamp'))];
  let [received, stageTs] = tailStrings(raw, TIME_KEYS);
  received ??= spanString(raw, top.get('requestReceivedTimestamp'));
  stageTs ??= spanString(raw, top.get('stageTimestamp'));
  return [received, stageTs];
}

/** The `kind` of tailship_audit_sensitive_events_total for an event, or undefined. Counted once per request. */
export function sensitiveKind(f: AuditFacts, userKind: UserKind): string | undefined {
  const longRunning = (f.subresource !== undefined && LONG_RUNNING_SUB.has(f.subresource)) || f.verb === 'watch';
  // once per request: the first stage after RequestReceived (ResponseStarted for long-running requests)
  const counted = f.stage === undefined || f.stage === 'Panic' || (longRunning ? f.stage === 'ResponseStarted' : f.stage === 'ResponseComplete');
  if (!counted) return undefined;
  if (f.code === 403) return 'forbidden';
  if (f.code === 401) return 'unauthorized';
  if (f.resource === 'pods' && (f.subresource === 'exec' || f.subresource === 'attach')) return 'pod_exec';
  if (f.resource === 'pods' && f.subresource === 'portforward') return 'pod_portforward';
  if (f.apiGroup === 'rbac.authorization.k8s.io' && f.verb !== undefined && WRITE_VERBS.has(f.verb)) return 'rbac_write';
  if (f.resource === 'secrets' && userKind === 'human' && f.verb !== undefined && READ_VERBS.has(f.verb)) return 'secret_read_human';
  // resource requests only: anonymous health probes (/healthz, /livez) are allowed by design
  if (userKind === 'anonymous' && f.resource !== undefined && f.code !== undefined && f.code < 400) return 'anonymous_allowed';
  return undefined;
}

/** Seconds between two RFC 3339 times, or undefined when either does not parse. */
export function durationSeconds(from: string | undefined, to: string | undefined): number | undefined {
  const a = eventTime(from);
  const b = eventTime(to);
  if (!a || !b) return undefined;
  return b.time - a.time + (b.timeNs - a.timeNs) / 1e9;
}

const VERB_LABELS = ['none', 'other', ...VERBS.keys()];
const USER_KINDS: UserKind[] = ['serviceaccount', 'node', 'anonymous', 'system', 'human'];
const VERB_INDEX = new Map(VERB_LABELS.map((v, i) => [v, i]));
const USER_KIND_INDEX = new Map(USER_KINDS.map((k, i) => [k, i]));

/** The tally slot of a label set: small fixed sets, so an index instead of a string key per event. */
function slotIndex(verb: string, c: number, userKind: UserKind): number {
  return (VERB_INDEX.get(verb)! * CODE_CLASSES.length + c) * USER_KINDS.length + USER_KIND_INDEX.get(userKind)!;
}

export function createAuditMetricsStage(registry: Registry): EventProcessor {
  const m = auditStageMetrics(registry);
  const tally = m.auditEventsTally;
  const durations = m.durationTally;
  return (event) => {
    if (!event.isObject) return event;
    let f: TableFacts;
    let top: Fields | undefined;
    try {
      // the line just parsed: from the parser's member table; else (or when a value needs decoding) a walk
      const fast = tableFacts(event.raw);
      if (fast) f = fast;
      else {
        top = topFields(event.raw);
        if (!top) return event;
        f = auditFacts(event.raw, top);
      }
    } catch {
      return event; // a nested value that is not what it claims: no metric, the event goes on untouched
    }
    const userKind = userKindOf(f.username);
    const verb = verbLabel(f.verb);
    const c = codeClassIndex(f.code);
    const at = slotIndex(verb, c, userKind);
    const slot: Tally = (tally[at] ??= counterTally(m.auditEvents, { verb, code_class: CODE_CLASSES[c]!, user_kind: userKind }));
    slot.n++;
    if (f.stage === 'ResponseComplete') {
      let d: number | undefined;
      try {
        const [received, stageTs] = top ? timestamps(event.raw, top) : [f.received, f.stageTs];
        d = durationSeconds(received, stageTs);
      } catch {
        d = undefined;
      }
      if (d !== undefined && d >= 0) {
        let t = durations.get(verb);
        if (!t) durations.set(verb, (t = newDurationTally(verb)));
        tallyDuration(t, d);
      }
    }
    const kind = sensitiveKind(f, userKind);
    if (kind) m.sensitive.inc({ kind });
    return event;
  };
}
