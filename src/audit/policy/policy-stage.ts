// The audit-policy event processor (src/process/stage.ts): `--audit-policy FILE` for every JSON input, and the
// per-sink `?policy=FILE` stage, built with createPolicyStage.

import { readFileSync } from 'node:fs';
import { Counter, type Registry } from 'prom-client';
import { counterTally, type Tally } from '../../observe/counter-tally.js';
import type { Metrics } from '../../observe/metrics.js';
import type { ShipEvent } from '../../parse/ship-event.js';
import type { EventProcessor } from '../../process/stage.js';
import { applyPolicy } from './apply.js';
import { compilePolicy, type Evaluator } from './evaluate.js';
import { loadPolicyFile, parsePolicy, type LoadedPolicy } from './load-policy.js';

export interface PolicyStageDeps {
  metrics: Pick<Metrics, 'registry'>;
}

const dropCounters = new WeakMap<Registry, Counter<'input' | 'reason'>>();

/** `tailship_events_dropped_total{input,reason}` of a registry (SPEC §6), created once per registry. */
export function eventsDroppedCounter(registry: Registry): Counter<'input' | 'reason'> {
  let c = dropCounters.get(registry);
  if (!c) {
    const existing = registry.getSingleMetric('tailship_events_dropped_total') as Counter<'input' | 'reason'> | undefined;
    c =
      existing ??
      new Counter({
        name: 'tailship_events_dropped_total',
        help: 'Events dropped by an audit policy: reason "policy" (level None) or "stage" (an omitted stage). Their bytes are acknowledged.',
        labelNames: ['input', 'reason'],
        registers: [registry],
      });
    dropCounters.set(registry, c);
  }
  return c;
}

/** Loaded and compiled policies by path, reused while the file's text is unchanged (one per input would repeat it). */
const cache = new Map<string, { text: string; loaded: LoadedPolicy; evaluator: Evaluator }>();

/** Loads (or reuses) and compiles the policy at `file`; throws a PolicyError (TailshipError) when it is invalid. */
export function loadEvaluator(file: string): { loaded: LoadedPolicy; evaluator: Evaluator } {
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    loadPolicyFile(file); // throws the unreadable-file error
  }
  const hit = cache.get(file);
  if (hit && hit.text === text) return hit;
  const loaded = parsePolicy(text!, file);
  const entry = { text: text!, loaded, evaluator: compilePolicy(loaded.policy) };
  cache.set(file, entry);
  return entry;
}

/** The processor of a compiled policy; drops are counted per input. */
export function createPolicyProcessor(evaluator: Evaluator, deps: PolicyStageDeps): EventProcessor {
  const dropped = eventsDroppedCounter(deps.metrics.registry);
  const tallies = new Map<string, { policy: Tally; stage: Tally }>();
  const countDrop = (input: string, reason: 'policy' | 'stage'): void => {
    let t = tallies.get(input);
    if (!t) tallies.set(input, (t = { policy: counterTally(dropped, { input, reason: 'policy' }), stage: counterTally(dropped, { input, reason: 'stage' }) }));
    t[reason].n++;
  };
  return (event: ShipEvent, ctx) => {
    // Not an object (a parse error, a cut line): nothing to evaluate, never lost.
    if (!event.isObject) return event;
    const r = applyPolicy(event.raw, evaluator);
    if (r.dropped) {
      countDrop(ctx.inputKey, r.dropped);
      return null;
    }
    return r.out === event.raw ? event : { ...event, raw: r.out! };
  };
}

/**
 * The policy stage for `policyFile` (`--audit-policy`, or a sink's `?policy=`). Throws a PolicyError (a
 * TailshipError with a TAILSHIP_E_POLICY_* code, naming the file and the rule) when the policy is invalid.
 */
export function createPolicyStage(policyFile: string, deps: PolicyStageDeps): EventProcessor {
  return createPolicyProcessor(loadEvaluator(policyFile).evaluator, deps);
}
