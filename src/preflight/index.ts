// The checks `config` and `run` share before anything starts (issue 10 items 5 and 7): whatever `run` would
// refuse, `config` reports as an error; whatever is suspicious but may fix itself, both report as a warning.

import { ErrorCodes } from '../errors.js';
import { readEnvFile } from '../config/env-sources.js';
import { NO_INPUT_HELP, type ResolvedConfig } from '../config/index.js';
import type { AgentOptions, ConfigProblem } from '../config/types.js';
import { nearPrefixVars, unknownTailshipVars } from './env-check.js';
import { inputWarnings } from './input-check.js';
import { sinkProblems } from './sink-check.js';

export interface Preflight {
  problems: ConfigProblem[];
  warnings: ConfigProblem[];
  /** No input at all: `run` exits 2 (or waits, with --wait-for-inputs). */
  noInput: boolean;
}

export async function preflight(
  options: AgentOptions,
  resolved: ResolvedConfig,
  env: NodeJS.ProcessEnv,
  command: 'run' | 'config' = 'config',
): Promise<Preflight> {
  const problems: ConfigProblem[] = [];
  // What is on disk now, `run` reports itself when it opens the files (once per problem, and again if it changes).
  const warnings: ConfigProblem[] = [...unknownTailshipVars(env), ...(command === 'config' ? inputWarnings(resolved.inputs) : [])];
  const noInput = resolved.inputs.length === 0;
  if (noInput) {
    // The likeliest cause is a mistyped prefix: say which variable, in the env or in an env file.
    const vars: Array<{ name: string; origin: ConfigProblem['origin'] }> = Object.keys(env).map((name) => ({ name, origin: { kind: 'env' } }));
    for (const f of options.envFiles) vars.push(...(await readEnvFile(f)).vars);
    const near = nearPrefixVars(vars.filter((v) => !/^(ALIBABA_CLOUD|ALICLOUD_LOG|TAILSHIP)_/i.test(v.name)));
    const entry = {
      code: ErrorCodes.CONFIG_NO_INPUT,
      variable: 'aliyun_logs_{key}',
      origin: { kind: 'env' as const },
      message: NO_INPUT_HELP.split('\n')[0]!,
      fix: near.length > 0 ? near.map((n) => n.fix).join('; ') : 'set aliyun_logs_{key}=/path/to/file.log in the env, an --env-file or a manifest under --manifests',
    };
    if (options.waitForInputs) warnings.push({ ...entry, message: `${entry.message}; waiting for one (--wait-for-inputs)` });
    else problems.push(entry);
    warnings.push(...near);
  }
  problems.push(...(await sinkProblems(options.sink, resolved.inputs, env, options.stateDir)));
  return { problems, warnings, noInput };
}
