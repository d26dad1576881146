// `tailship policy simulate --policy FILE [--per-event] [--json] LOG...` (SPEC §6): exit 0, or 2 for a usage
// mistake, an invalid policy or an unreadable log.

import { formatIssue, PolicyError } from '../audit/policy/load-policy.js';
import { loadEvaluator } from '../audit/policy/policy-stage.js';
import { formatProgress, formatTable, toJson } from '../audit/policy/format-simulation.js';
import { simulate } from '../audit/policy/simulate.js';
import { TailshipError } from '../errors.js';

export const POLICY_HELP = `Usage: tailship policy simulate --policy FILE [--per-event] [--json] LOG...

Reads audit logs (plain or .gz, one JSON event per line), applies the audit policy FILE exactly as
'tailship run --audit-policy FILE' would, ships nothing, and prints per rule the events it decided, how many
are kept, and their bytes before and after (the saving).
  --policy FILE   the audit.k8s.io Policy (v1 or v1beta1, YAML or JSON)
  --per-event     one JSON line per event instead: {"auditID","stage","rule","level","kept"}
  --json          the summary as JSON: {"rules":[{"rule","events","kept","bytesIn","bytesOut"}…],"total":{…}}
Exit 0; 2 for an invalid policy or an unreadable log.
`;

interface Out {
  write(s: string): unknown;
  isTTY?: boolean;
}

interface Parsed {
  policy?: string;
  perEvent: boolean;
  json: boolean;
  help: boolean;
  logs: string[];
}

function usage(stderr: Out, msg: string): number {
  stderr.write(`tailship policy: ${msg}\nRun 'tailship policy simulate --help' for the usage.\n`);
  return 2;
}

function parseArgs(args: string[]): Parsed | string {
  const p: Parsed = { perEvent: false, json: false, help: false, logs: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--help' || a === '-h') p.help = true;
    else if (a === '--per-event') p.perEvent = true;
    else if (a === '--json') p.json = true;
    else if (a === '--policy' || a.startsWith('--policy=')) {
      if (p.policy !== undefined) return '--policy is given more than once; give it once';
      const v = a === '--policy' ? args[++i] : a.slice('--policy='.length);
      if (v === undefined || v === '') return '--policy needs a value; write --policy FILE';
      p.policy = v;
    } else if (a === '--') p.logs.push(...args.slice(i + 1)), (i = args.length);
    else if (a.startsWith('-') && a !== '-') return `unknown flag ${a} for policy simulate (flags: --policy FILE, --per-event, --json)`;
    else p.logs.push(a);
  }
  return p;
}

/** The `policy` command; resolves with the exit code. */
export async function runPolicyCommand(args: string[], stdout: Out = process.stdout, stderr: Out = process.stderr): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    stdout.write(POLICY_HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'simulate') return usage(stderr, `unknown subcommand "${sub}"; the policy command has: simulate`);
  const p = parseArgs(rest);
  if (typeof p === 'string') return usage(stderr, p);
  if (p.help) {
    stdout.write(POLICY_HELP);
    return 0;
  }
  if (p.policy === undefined) return usage(stderr, 'simulate needs --policy FILE');
  if (p.logs.length === 0) return usage(stderr, 'simulate needs at least one audit log file (LOG...)');

  let evaluator;
  try {
    const { loaded, evaluator: ev } = loadEvaluator(p.policy);
    for (const w of loaded.warnings) stderr.write(`warning: ${p.policy}: ${formatIssue(w)}\n`);
    evaluator = ev;
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e;
    for (const i of e.issues) stderr.write(`error: ${e.file}: ${formatIssue(i)} [${e.code}]\n`);
    stderr.write(`tailship policy: the audit policy is invalid; ${e.fix ?? ''}\n`);
    return 2;
  }

  let progressShown = false;
  const tty = stderr.isTTY === true;
  try {
    const result = await simulate(evaluator, p.logs, {
      progressEveryMs: tty ? 1000 : 5000,
      onProgress: (pr) => {
        progressShown = true;
        stderr.write(tty ? `\r${formatProgress(pr)}\u001b[K` : `${formatProgress(pr)}\n`);
      },
      onEvent: p.perEvent ? (e) => stdout.write(`${JSON.stringify(e)}\n`) : undefined,
    });
    if (progressShown && tty) stderr.write('\n');
    for (const f of result.files) if (f.invalidLines > 0) stderr.write(`warning: ${f.file}: ${f.invalidLines} line(s) are not one JSON event; not evaluated\n`);
    if (!p.perEvent) stdout.write(p.json ? `${JSON.stringify(toJson(result))}\n` : formatTable(result, evaluator.policy.rules, p.policy));
    return 0;
  } catch (e) {
    if (!(e instanceof TailshipError)) throw e;
    if (progressShown && tty) stderr.write('\n');
    stderr.write(`error: ${e.message} [${e.code}]\ntailship policy: ${e.fix ?? ''}\n`);
    return 2;
  }
}
