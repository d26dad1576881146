// Item 5 of issue 10: what `config` can see on this machine before `run` starts: a log directory that is
// missing, a file that cannot be read, two inputs that would read the same file (each line shipped twice).

import { ErrorCodes } from '../errors.js';
import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { formatOrigin } from '../config/env-convention.js';
import type { ConfigProblem, InputSpec } from '../config/types.js';
import { hasGlob, segmentMatcher } from '../discover/glob.js';

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? String(e);
}

/** Warnings (not errors: the directory may appear later, rotation may be in progress). */
export function inputWarnings(inputs: InputSpec[]): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const warn = (i: InputSpec, message: string, fix: string) => out.push({ code: ErrorCodes.CONFIG_INPUT_PATH, variable: `aliyun_logs_${i.key}`, origin: i.origin, message, fix });
  for (const i of inputs) {
    const dir = path.posix.dirname(i.hostPath);
    try {
      if (!statSync(dir).isDirectory()) {
        warn(i, `the log's directory ${dir} is not a directory`, 'point the input at a file inside a directory');
        continue;
      }
    } catch (e) {
      const code = errCode(e);
      warn(
        i,
        code === 'ENOENT' ? `the log's directory ${dir} does not exist (yet): nothing is read until it appears` : `the log's directory ${dir} cannot be examined (${code})`,
        code === 'ENOENT' ? 'check the path (and --host-root / the hostPath mount in a container)' : 'let the tailship user search that directory',
      );
      continue;
    }
    if (hasGlob(path.posix.basename(i.hostPath))) {
      try {
        accessSync(dir, constants.R_OK | constants.X_OK);
      } catch (e) {
        warn(i, `the directory ${dir} cannot be listed (${errCode(e)}), so the pattern matches nothing`, 'let the tailship user read that directory');
      }
      continue;
    }
    try {
      if (statSync(i.hostPath).isDirectory()) warn(i, `${i.hostPath} is a directory, not a log file`, 'point the input at a file (or a pattern such as DIR/*.log)');
      else accessSync(i.hostPath, constants.R_OK);
    } catch (e) {
      const code = errCode(e);
      if (code !== 'ENOENT') warn(i, `the log file ${i.hostPath} cannot be read (${code})`, 'let the tailship user read the file (tailship runs as root in the DaemonSet for this reason)');
    }
  }
  out.push(...overlaps(inputs));
  return out;
}

/** Two inputs of one directory whose names can match one file: a literal a.log and *.log, or two patterns. */
function overlaps(inputs: InputSpec[]): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (let x = 0; x < inputs.length; x++) {
    for (let y = x + 1; y < inputs.length; y++) {
      const a = inputs[x]!;
      const b = inputs[y]!;
      const dir = path.posix.dirname(a.hostPath);
      if (dir !== path.posix.dirname(b.hostPath) || a.hostPath === b.hostPath) continue;
      const shared = sharedName(dir, path.posix.basename(a.hostPath), path.posix.basename(b.hostPath));
      if (shared === undefined) continue;
      out.push({
        code: ErrorCodes.CONFIG_DUPLICATE_INPUT,
        variable: `aliyun_logs_${b.key}`,
        origin: b.origin,
        message: `reads ${path.posix.join(dir, shared)} like input "${a.key}" (${formatOrigin(a.origin)}), so its lines would be shipped twice`,
        fix: 'narrow one of the two patterns so that each file belongs to one input',
      });
    }
  }
  return out;
}

function sharedName(dir: string, a: string, b: string): string | undefined {
  const ga = hasGlob(a);
  const gb = hasGlob(b);
  if (!ga && !gb) return undefined;
  if (!ga) return segmentMatcher(b)(a) ? a : undefined;
  if (!gb) return segmentMatcher(a)(b) ? b : undefined;
  // Two patterns: they overlap for sure only on a name that exists now.
  const ma = segmentMatcher(a);
  const mb = segmentMatcher(b);
  try {
    return readdirSync(dir).find((n) => ma(n) && mb(n));
  } catch {
    return undefined;
  }
}
