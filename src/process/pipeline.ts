import type { AgentOptions, InputSpec } from '../config/types.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import type { EventProcessor } from './stage.js';
import { createPolicyStage } from '../audit/policy/policy-stage.js';

export interface PipelineDeps {
  metrics: Metrics;
  logger: Logger;
  env: Record<string, string | undefined>;
}

/**
 * The audit stages of one input, in SPEC §6 order: legacy conversion, audit-derived metrics (on the events as
 * read), policy, redaction, trim, identity. Each stage is off unless its flag asks for it, so an input with none
 * runs no code per line.
 */
export function buildProcessors(input: InputSpec, opts: AgentOptions, deps: PipelineDeps): EventProcessor[] {
  void input;
  void opts;
  void deps;
  const stages: EventProcessor[] = [];
  if (opts.auditPolicy !== undefined && input.json) stages.push(createPolicyStage(opts.auditPolicy, deps));
  return stages;
}
