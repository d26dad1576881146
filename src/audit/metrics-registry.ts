import { Counter, Histogram, type Registry } from 'prom-client';
import type { Tally } from '../observe/counter-tally.js';

/**
 * The metrics of the audit stages (SPEC §6), made once per registry: an agent has one registry, tests make many,
 * and prom-client refuses a name registered twice. The stages only increment; text is rendered on scrape.
 */
export interface AuditStageMetrics {
  redacted: Counter<'input'>;
  trimmed: Counter<'input'>;
  auditEvents: Counter<'verb' | 'code_class' | 'user_kind'>;
  requestDuration: Histogram<'verb'>;
  sensitive: Counter<'kind'>;
  /**
   * tailship_audit_events_total's tallies (observe/counter-tally.ts), one slot per label set (index from the
   * stage): counted on every event without prom-client's per-call label hashing.
   */
  auditEventsTally: Array<Tally | undefined>;
  /** tailship_audit_request_duration_seconds the same way, per verb: prom-client's observe hashed the labels of
   *  every ResponseComplete event (3 % of the main thread of a backlog). */
  durationTally: Map<string, DurationTally>;
}

/** Observations not yet handed to the histogram: per bucket of DURATION_BUCKETS (not cumulative), sum, count. */
export interface DurationTally {
  labels: { verb: string };
  buckets: Float64Array;
  sum: number;
  count: number;
}

/** Counts `seconds` into `t` exactly as prom-client's observe would into its buckets. */
export function tallyDuration(t: DurationTally, seconds: number): void {
  let i = 0;
  while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
  if (i < DURATION_BUCKETS.length) t.buckets[i]!++; // above the last bound: only in the count (+Inf)
  t.sum += seconds;
  t.count++;
}

export function newDurationTally(verb: string): DurationTally {
  return { labels: { verb }, buckets: new Float64Array(DURATION_BUCKETS.length), sum: 0, count: 0 };
}

/** prom-client 15's per-label-set record of a histogram (lib/histogram.js), what `collect` adds the tallies to. */
interface HistogramEntry {
  labels: Record<string, string>;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

function flushDurations(h: Histogram<'verb'>, tallies: Map<string, DurationTally>): void {
  for (const t of tallies.values()) {
    if (t.count === 0) continue;
    const map = (h as unknown as { hashMap: Record<string, HistogramEntry> }).hashMap;
    let entry = Object.values(map).find((e) => e.labels.verb === t.labels.verb);
    if (!entry) {
      h.zero(t.labels);
      entry = Object.values(map).find((e) => e.labels.verb === t.labels.verb)!;
    }
    DURATION_BUCKETS.forEach((bound, i) => (entry.bucketValues[bound] = (entry.bucketValues[bound] ?? 0) + t.buckets[i]!));
    entry.sum += t.sum;
    entry.count += t.count;
    t.buckets.fill(0);
    t.sum = 0;
    t.count = 0;
  }
}

const byRegistry = new WeakMap<Registry, AuditStageMetrics>();

/** Latency buckets in seconds: the API server's own request buckets, then long-running requests (watch, exec). */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];

export function auditStageMetrics(registry: Registry): AuditStageMetrics {
  let m = byRegistry.get(registry);
  if (m) return m;
  const registers = [registry];
  const tally: Array<Tally | undefined> = [];
  const durations = new Map<string, DurationTally>();
  m = {
    auditEventsTally: tally,
    durationTally: durations,
    redacted: new Counter({
      name: 'tailship_events_redacted_total',
      help: 'Events in which --redact replaced at least one value (secrets, tokens).',
      labelNames: ['input'],
      registers,
    }),
    trimmed: new Counter({
      name: 'tailship_events_trimmed_total',
      help: 'Events larger than --max-event-bytes that were trimmed (managedFields, then bodies), tagged __trimmed__.',
      labelNames: ['input'],
      registers,
    }),
    auditEvents: new Counter({
      name: 'tailship_audit_events_total',
      help: 'Audit events as read (before the policy), by verb, response code class and kind of user (no user names).',
      labelNames: ['verb', 'code_class', 'user_kind'],
      registers,
    }),
    requestDuration: new Histogram({
      name: 'tailship_audit_request_duration_seconds',
      help: 'stageTimestamp - requestReceivedTimestamp of ResponseComplete audit events, by verb (watch and connect requests run for minutes: filter them out for request latency).',
      labelNames: ['verb'],
      buckets: DURATION_BUCKETS,
      registers,
      collect() {
        flushDurations(this, durations);
      },
    }),
    sensitive: new Counter({
      name: 'tailship_audit_sensitive_events_total',
      help: 'Security-relevant requests, once per request: pod_exec (exec/attach), pod_portforward, rbac_write, secret_read_human, forbidden (403), unauthorized (401), anonymous_allowed (resource requests).',
      labelNames: ['kind'],
      registers,
    }),
  };
  byRegistry.set(registry, m);
  return m;
}
