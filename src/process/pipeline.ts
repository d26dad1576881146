import type { AgentOptions, InputSpec } from '../config/types.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import type { EventProcessor } from './stage.js';
import { createLegacyJoin } from './legacy-join.js';

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
  const stages: EventProcessor[] = [];
  // SPEC §9: legacy text lines of a JSON input become Events, first, so that every later stage sees an Event.
  if (input.json) stages.push(createLegacyJoin({ stateDir: opts.stateDir, inputKey: input.key, keepRaw: /^true$/i.test(deps.env.TAILSHIP_LEGACY_KEEP_RAW ?? '') }));
  return stages;
}
