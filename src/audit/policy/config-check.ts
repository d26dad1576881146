// `--audit-policy` in the configuration stage: an invalid policy is a config problem (run and config exit 2),
// one per issue, each naming the file, the line and the rule; unknown fields are warnings.

import type { ConfigProblem } from '../../config/types.js';
import { ErrorCodes } from '../../errors.js';
import { formatIssue, PolicyError } from './load-policy.js';
import { loadEvaluator } from './policy-stage.js';

export function checkPolicyFile(file: string, variable = '--audit-policy'): { problems: ConfigProblem[]; warnings: ConfigProblem[] } {
  try {
    const { loaded } = loadEvaluator(file);
    return {
      problems: [],
      warnings: loaded.warnings.map((w) => ({ code: ErrorCodes.POLICY_INVALID, variable, origin: { kind: 'file', file, line: w.line }, message: formatIssue(w), fix: 'remove or correct the field' })),
    };
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e;
    return {
      problems: e.issues.map((i) => ({ code: e.code, variable, origin: { kind: 'file', file, line: i.line }, message: `${e.code}: ${formatIssue(i)}`, fix: e.fix ?? '' })),
      warnings: [],
    };
  }
}
