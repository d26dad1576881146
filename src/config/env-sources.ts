// Where `aliyun_logs_*` variables come from besides manifests: the agent's own env and `--env-file` files.

import { readFile } from 'node:fs/promises';
import { PREFIXES, parseTag, type EnvVar } from './env-convention.js';
import type { ConfigProblem } from './types.js';
import { ErrorCodes } from '../errors.js';

/** True for names the convention looks at (any case, so that a wrongly-cased prefix can be reported). */
export function isLogVarName(name: string): boolean {
  const lower = name.toLowerCase();
  return PREFIXES.some((p) => lower.startsWith(p));
}

/** The agent's own `aliyun_logs_*`/`loong_logs_*` variables, sorted by name for a stable order. */
export function varsFromProcessEnv(env: NodeJS.ProcessEnv): EnvVar[] {
  return Object.keys(env)
    .filter(isLogVarName)
    .sort()
    .map((name) => ({ name, value: env[name] ?? '', origin: { kind: 'env' as const } }));
}

export interface EnvFileResult {
  /** Every variable of the file, in order (not only the `aliyun_logs_` ones). */
  vars: EnvVar[];
  problems: ConfigProblem[];
}

const NAME_RE = /^[^\s=#'"]+$/;

/** Double-quoted values: `\n`, `\t`, `\r`, `\"`, `\\` and `\$` are escapes; any other backslash stays. */
function unescapeDouble(s: string): string {
  return s.replace(/\\([ntr"\\$])/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r' })[c as 'n'] ?? c);
}

/**
 * Parse a `KEY=VALUE` file: `#` comment lines, blank lines, optional `export `, values optionally in single quotes
 * (literal) or double quotes (escapes). An unquoted value is trimmed and ends at ` #` (a trailing comment).
 * A malformed line is a problem naming FILE:LINE; its text is not echoed, since env files often hold secrets.
 */
export function parseEnvFile(text: string, file: string): EnvFileResult {
  const vars: EnvVar[] = [];
  const problems: ConfigProblem[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    const origin = { kind: 'file' as const, file, line };
    const bad = (message: string, fix: string, variable = '--env-file') => problems.push({ code: ErrorCodes.CONFIG_ENV_FILE, variable, origin, message, fix });
    let s = raw.trim();
    if (s === '' || s.startsWith('#')) return;
    if (/^export\s/.test(s)) s = s.slice('export'.length).trimStart();
    const eq = s.indexOf('=');
    if (eq < 0) {
      bad('the line is not KEY=VALUE (no "=")', 'write KEY=VALUE, or start the line with # to make it a comment');
      return;
    }
    const name = s.slice(0, eq).trim();
    if (!NAME_RE.test(name)) {
      bad('the line does not start with a variable name before "="', 'write KEY=VALUE with no spaces or quotes in KEY');
      return;
    }
    let rest = s.slice(eq + 1).trimStart();
    let value: string;
    const q = rest[0];
    if (q === '"' || q === "'") {
      // Find the closing quote; in double quotes a backslash escapes the next character.
      let j = 1;
      while (j < rest.length && rest[j] !== q) j += q === '"' && rest[j] === '\\' ? 2 : 1;
      if (j >= rest.length) {
        bad(`the value of ${name} opens a ${q === '"' ? 'double' : 'single'} quote that is not closed on this line`, 'close the quote (values cannot span lines)', name);
        return;
      }
      const inner = rest.slice(1, j);
      value = q === '"' ? unescapeDouble(inner) : inner;
      const after = rest.slice(j + 1).trim();
      if (after !== '' && !after.startsWith('#')) {
        bad(`text follows the closing quote of ${name}`, 'put the whole value inside the quotes, or start a comment with #', name);
        return;
      }
    } else {
      const hash = rest.search(/\s#/);
      if (hash >= 0) rest = rest.slice(0, hash);
      value = rest.trim();
    }
    vars.push({ name, value, origin });
  });
  return { vars, problems };
}

/** Read and parse one env file; a missing or unreadable file is a problem with the fix. */
export async function readEnvFile(file: string): Promise<EnvFileResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read (permission denied)' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? String(e)})`;
    return {
      vars: [],
      problems: [{ code: ErrorCodes.CONFIG_ENV_FILE, variable: '--env-file', origin: { kind: 'file', file, line: 0 }, message: `the env file ${why}`, fix: 'check the path given to --env-file / TAILSHIP_ENV_FILE (relative paths are from the working directory)' }],
    };
  }
  return parseEnvFile(text, file);
}

/** All variables of the agent's scope: each env file in order, then the process env (which wins, as with dotenv). */
export async function gatherEnvSources(envFiles: string[], env: NodeJS.ProcessEnv): Promise<EnvFileResult> {
  const vars: EnvVar[] = [];
  const problems: ConfigProblem[] = [];
  for (const f of envFiles) {
    const r = await readEnvFile(f);
    vars.push(...r.vars.filter((v) => isLogVarName(v.name)));
    problems.push(...r.problems);
  }
  vars.push(...varsFromProcessEnv(env));
  return { vars, problems };
}

/** `TAILSHIP_TAGS=k1=v1,k2=v2`: tags added to every input; each item is split like a `_tags` value. */
export function parseGlobalTags(value: string | undefined): { tags: Record<string, string>; problems: ConfigProblem[] } {
  const tags: Record<string, string> = {};
  const problems: ConfigProblem[] = [];
  if (!value) return { tags, problems };
  for (const item of value.split(',')) {
    const s = item.trim();
    if (s === '') continue;
    const t = parseTag(s);
    if ('error' in t) problems.push({ code: ErrorCodes.CONFIG_ENV_VALUE, variable: 'TAILSHIP_TAGS', origin: { kind: 'env' }, message: t.error, fix: 'write TAILSHIP_TAGS=k1=v1,k2=v2' });
    else tags[t.key] = t.value;
  }
  return { tags, problems };
}
