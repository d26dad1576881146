import { formatProblem, resolveConfig, type AgentOptions, type InputSpec } from '../config/index.js';
import type { Logger } from '../observe/log.js';

/**
 * Live configuration (SPEC §11): re-resolves the inputs from the same sources as at start (env, env files,
 * manifests) and hands a valid result to `apply`; an invalid one is logged and the running one kept. One
 * resolution at a time: a change that comes during one runs again after it.
 */
export function reloader(opts: AgentOptions, env: NodeJS.ProcessEnv, logger: Logger, apply: (inputs: InputSpec[]) => void): (reason: string) => Promise<void> {
  let running: Promise<void> | undefined;
  let again: string | undefined;
  const once = async (reason: string): Promise<void> => {
    const r = await resolveConfig(opts, env);
    for (const w of r.warnings) logger.warn(formatProblem(w));
    if (r.problems.length > 0 || r.inputs.length === 0) {
      const problems = r.problems.length > 0 ? r.problems.map(formatProblem) : ['no input is configured'];
      logger.error({ reason, problems }, 'the new configuration is invalid: it is ignored, the running one stays');
      return;
    }
    logger.info({ reason, inputs: r.inputs.map((i) => ({ key: i.key, path: i.hostPath, logstore: i.logstore })) }, 'configuration re-resolved');
    apply(r.inputs);
  };
  const run = async (reason: string): Promise<void> => {
    if (running) {
      again = reason;
      return running;
    }
    running = once(reason)
      .catch((e: Error) => logger.error({ reason, err: e.message }, 'cannot re-resolve the configuration: the running one stays'))
      .finally(() => {
        running = undefined;
        const next = again;
        again = undefined;
        if (next) void run(next);
      });
    return running;
  };
  return run;
}
