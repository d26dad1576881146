import { createAuditMetricsStage } from '../audit/audit-metrics.js';
import { clusterIdOf, createIdentityStage } from '../audit/identity.js';
import { createRedactStage } from '../audit/redact/redact-stage.js';
import { createTrimStage } from '../audit/trim.js';
import type { AgentOptions, InputSpec } from '../config/types.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import type { EventProcessor } from './stage.js';
import { createPolicyStage } from '../audit/policy/policy-stage.js';
import { createLegacyJoin } from './legacy-join.js';

export interface PipelineDeps {
  metrics: Metrics;
  logger: Logger;
  env: Record<string, string | undefined>;
}

/**
 * The audit stages of one input, in SPEC §6 order: legacy conversion, audit-derived metrics (on the events as
 * read), policy, redaction, trim, identity. Policy, redaction and trim are off unless their flag asks; the
 * audit stages run on JSON inputs only, identity (`__event_id__`, SPEC §10) on every input.
 */
export function buildProcessors(input: InputSpec, opts: AgentOptions, deps: PipelineDeps): EventProcessor[] {
  const stages: EventProcessor[] = [];
  const registry = deps.metrics.registry;
  // SPEC §6: the audit stages apply to the events of JSON inputs; identity (SPEC §10) to every event
  if (input.json) {
    // SPEC §9: legacy text lines become Events first, so that every later stage sees an Event.
    stages.push(createLegacyJoin({ stateDir: opts.stateDir, inputKey: input.key, keepRaw: /^true$/i.test(deps.env.TAILSHIP_LEGACY_KEEP_RAW ?? '') }));
    stages.push(createAuditMetricsStage(registry)); // on the events as read, before the policy
    if (opts.auditPolicy !== undefined) stages.push(createPolicyStage(opts.auditPolicy, deps));
    const redact = createRedactStage(opts.redact, opts.redactKey, { registry });
    if (redact) stages.push(redact);
    const trim = createTrimStage(opts.maxEventBytes, { registry });
    if (trim) stages.push(trim);
  }
  stages.push(createIdentityStage(clusterIdOf(input.key, deps.env)));
  return stages;
}
