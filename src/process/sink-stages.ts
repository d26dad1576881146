import { createPolicyStage } from '../audit/policy/policy-stage.js';
import { createRedactStage } from '../audit/redact/redact-stage.js';
import type { AgentOptions } from '../config/types.js';
import type { Metrics } from '../observe/metrics.js';
import type { EventProcessor } from './stage.js';

/**
 * SPEC §10: a sink's own `?policy=FILE` and `?redact=LIST`, run on that sink's copy of each batch after the
 * global stages. The redaction key is the global `--redact-key` (a key per sink would make equal values
 * incomparable across stores). An invalid policy or list throws a TailshipError: a config error at start.
 */
export function sinkStageFactory(opts: AgentOptions, metrics: Metrics) {
  return (spec: { policy?: string; redact?: string }): EventProcessor[] => {
    const stages: EventProcessor[] = [];
    if (spec.policy !== undefined) stages.push(createPolicyStage(spec.policy, { metrics }));
    if (spec.redact !== undefined) {
      const redact = createRedactStage(spec.redact, opts.redactKey, { registry: metrics.registry });
      if (redact) stages.push(redact);
    }
    return stages;
  };
}
