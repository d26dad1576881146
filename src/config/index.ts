// The configuration stage: options + env + env files + manifests → the inputs to tail, or the problems to fix.

import { ErrorCodes } from '../errors.js';
import { applyConvention, formatOrigin } from './env-convention.js';
import { gatherEnvSources, parseGlobalTags } from './env-sources.js';
import { loadManifests } from './manifests.js';
import { checkPolicyFile } from '../audit/policy/config-check.js';
import type { AgentOptions, ConfigProblem, InputSpec, ResolvedConfig } from './types.js';
import { finishWebhookInput, webhookInputVar } from '../inputs/webhook/config.js'; // webhook wiring

export type { AgentOptions, ConfigProblem, InputSpec, Origin, ResolvedConfig, StartAt } from './types.js';
export { parseCommandLine, UsageError, HELP_TEXT, DEFAULT_OPTIONS, type Command, type CommandName } from './options.js';
export { formatOrigin } from './env-convention.js';
export { describeConfig } from './describe.js';

/** What `run` prints when no input is configured at all. */
export const NO_INPUT_HELP = [
  'no input is configured: tailship found no aliyun_logs_{key} variable to collect.',
  'Add one in any of these ways:',
  '  - in the environment:   aliyun_logs_my-app=/var/log/my-app/app.log tailship run',
  '  - in an env file:       echo "aliyun_logs_my-app=/var/log/my-app/*.log" > my.env && tailship run --env-file my.env',
  '  - in a static pod manifest (container env), with the manifests directory given: tailship run --manifests /etc/kubernetes/manifests',
  '{key} is lowercase letters, digits and "-"; the value is an absolute file path (the last segment may hold * and ?).',
  "Optional suffixes: aliyun_logs_my-app_tags=team=web, _product, _jsonfile=true, _logstore, _project. Check with 'tailship config'.",
].join('\n');

/** One line: variable, origin, what is wrong, and the fix. */
export function formatProblem(p: ConfigProblem): string {
  const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ').trim();
  const message = oneLine(p.message);
  const sep = /[.?!]$/.test(message) ? ' ' : '. ';
  return oneLine(`${p.variable} (${formatOrigin(p.origin)}): ${message}${sep}Fix: ${p.fix}`);
}

/** Resolve every source of SPEC §2 into inputs. Never throws for a configuration mistake: it is a problem. */
export async function resolveConfig(options: AgentOptions, env: NodeJS.ProcessEnv): Promise<ResolvedConfig> {
  const out: ResolvedConfig = { inputs: [], skipped: [], problems: [], warnings: [], notes: [] };
  const global = parseGlobalTags(env.TAILSHIP_TAGS);
  out.problems.push(...global.problems);
  const opts = { hostRoot: options.hostRoot, globalTags: global.tags };

  // The agent's env and its env files are one scope, like one container's env.
  const gathered = await gatherEnvSources(options.envFiles, env);
  out.problems.push(...gathered.problems);
  // webhook wiring: the spool is the input `aliyun_logs_{--webhook-key}`, its suffixes apply as for any input
  const webhookVar = webhookInputVar(options);
  if (webhookVar) {
    const clash = gathered.vars.find((v) => v.name === webhookVar.name || v.name === `loong_logs_${options.webhookKey}`);
    if (clash) {
      out.problems.push({ code: ErrorCodes.CONFIG_ENV_VALUE, variable: clash.name, origin: clash.origin, message: `the key "${options.webhookKey}" is the webhook's input (--webhook-key), so it takes no path`, fix: `remove ${clash.name} (keep its _tags, _product… suffixes), or choose another --webhook-key` });
    } else gathered.vars.push(webhookVar);
  }
  const fromEnv = applyConvention(gathered.vars, opts);
  if (webhookVar) fromEnv.inputs = fromEnv.inputs.map((i) => (i.key === options.webhookKey ? finishWebhookInput(i, options) : i));
  const all = [...fromEnv.inputs];
  out.problems.push(...fromEnv.problems);
  out.warnings.push(...fromEnv.warnings);

  if (options.manifests !== undefined) {
    const m = await loadManifests(options.manifests, opts);
    all.push(...m.inputs);
    out.problems.push(...m.problems);
    out.warnings.push(...m.warnings);
    out.notes.push(...m.notes);
  }

  if (options.auditPolicy !== undefined) {
    const p = checkPolicyFile(options.auditPolicy);
    out.problems.push(...p.problems);
    out.warnings.push(...p.warnings);
  }

  const seen = new Map<string, InputSpec>();
  for (const input of all) {
    const variable = `aliyun_logs_${input.key}`;
    if (input.stdout) {
      out.skipped.push(input);
      out.warnings.push({
        code: ErrorCodes.CONFIG_STDOUT_INPUT,
        variable,
        origin: input.origin,
        message: `"${input.path}" asks for container stdout, which tailship does not collect (it reads files); this input is skipped`,
        fix: 'point the variable at the container log file under /var/log/pods/…, or collect stdout with another agent',
      });
      continue;
    }
    // Two inputs reading the same file would ship every line twice.
    const prev = seen.get(input.hostPath);
    if (prev) {
      out.problems.push({
        code: ErrorCodes.CONFIG_DUPLICATE_INPUT,
        variable,
        origin: input.origin,
        message: `reads the same host path ${input.hostPath} as input "${prev.key}" (${formatOrigin(prev.origin)}), so every line would be shipped twice`,
        fix: 'configure the file in one place only',
      });
      continue;
    }
    seen.set(input.hostPath, input);
    out.inputs.push(input);
  }
  return out;
}
