// The logtail `aliyun_logs_{key}[_{suffix}]` convention (SPEC §2, research logtail-sls.md §1.1–1.2), as a pure
// function from a list of variables of one scope (one container, or the agent's env plus its env files) to inputs.
// The names live in env-names.ts, the value checks in env-values.ts, one input's assembly in env-input.ts.

import type { ConfigProblem, InputSpec } from './types.js';
import type { ConventionOptions, ConventionResult, EnvVar, Group, Item, Report } from './env-types.js';
import { KEY_RE, KNOWN_SUFFIXES, PLACEHOLDER_RE, PREFIXES, isLoong, splitRest, suggestKey } from './env-names.js';
import { formatOrigin } from './env-values.js';
import { closest } from './did-you-mean.js';
import { buildInput } from './env-input.js';
import { ErrorCodes as C } from '../errors.js';

export type { ConventionOptions, ConventionResult, EnvVar, PathMapper } from './env-types.js';
export { KEY_RE, KNOWN_SUFFIXES, PREFIXES, splitRest } from './env-names.js';
export { checkPath, formatOrigin, joinHostRoot, parseTag } from './env-values.js';
export { closest, editDistance } from './did-you-mean.js';

/** 1. One value per name: the last one given (env files in order, then the process env; k8s does the same for env[]). */
function lastByName(vars: EnvVar[], warn: Report): Map<string, EnvVar> {
  const byName = new Map<string, EnvVar>();
  for (const v of vars) {
    const prev = byName.get(v.name);
    if (prev && prev.value !== v.value) {
      warn(C.CONFIG_ENV_OVERRIDDEN, v, `also set (to a different value) at ${formatOrigin(prev.origin)}; this value is used`, 'set the variable in one place only');
    }
    byName.delete(v.name); // keep first-seen order stable for the last definition
    byName.set(v.name, v);
  }
  return byName;
}

/** 2. Strip the prefix; `loong_logs_` wins over `aliyun_logs_` for the same rest-of-name. */
function stripPrefixes(byName: Map<string, EnvVar>, err: Report, warn: Report): Map<string, Item> {
  const byRest = new Map<string, Item>();
  for (const v of byName.values()) {
    if (PLACEHOLDER_RE.test(v.name)) {
      err(C.CONFIG_ENV_PLACEHOLDER, v, 'the variable name holds an unreplaced {cluster_id} placeholder', 'replace ${cluster_id} with your cluster id (e.g. c5a1e0b7…), as the ACK document says');
      continue;
    }
    const prefix = PREFIXES.find((p) => v.name.startsWith(p));
    if (!prefix) {
      const lower = PREFIXES.find((p) => v.name.toLowerCase().startsWith(p));
      if (lower) {
        warn(C.CONFIG_ENV_NAME, v, `ignored: logtail only reads the lowercase prefix ${lower}`, `rename it to ${lower}${v.name.slice(lower.length)}`);
      }
      continue;
    }
    const rest = v.name.slice(prefix.length);
    const prev = byRest.get(rest);
    if (prev) {
      const [winner, loser] = isLoong(v.name) || !isLoong(prev.v.name) ? [v, prev.v] : [prev.v, v];
      if (winner.value !== loser.value) {
        warn(C.CONFIG_ENV_OVERRIDDEN, loser, `ignored: ${winner.name} (${formatOrigin(winner.origin)}) is set too and loong_logs_ wins over aliyun_logs_`, `remove one of the two`);
      }
      byRest.set(rest, { v: winner, rest });
      continue;
    }
    byRest.set(rest, { v, rest });
  }
  return byRest;
}

/** 3. Split at the last `_` into key and suffix, group by key. */
function groupByKey(byRest: Map<string, Item>, err: Report, warn: Report): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const item of byRest.values()) {
    const { v, rest } = item;
    if (rest === '') {
      err(C.CONFIG_ENV_NAME, v, 'the variable has no {key} after the prefix', 'name it aliyun_logs_{key}, e.g. aliyun_logs_my-app');
      continue;
    }
    if (rest.endsWith('_')) {
      warn(C.CONFIG_ENV_NAME, v, 'ignored: logtail ignores a variable whose name ends in "_"', `remove the trailing "_" (${v.name.replace(/_+$/, '')})`);
      continue;
    }
    const { key, suffix } = splitRest(rest);
    if (!KEY_RE.test(key)) {
      const prefix = v.name.slice(0, v.name.length - rest.length);
      const why = key.includes('_')
        ? `logtail splits the name at its last "_", so this is key "${key}" with suffix "${suffix}", and a key may not contain "_"`
        : suffix
          ? `its key "${key}" (the part between the prefix and the last "_") must match ^[a-z0-9-]+$`
          : `its key "${key}" must match ^[a-z0-9-]+$ (lowercase letters, digits, "-")`;
      err(C.CONFIG_ENV_NAME, v, why, `rename it to ${prefix}${suggestKey(key)}${suffix ? '_' + suffix : ''}`);
      continue;
    }
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, suffixes: new Map() }));
    if (suffix === '') g.main = item;
    else g.suffixes.set(suffix, item);
  }
  return groups;
}

/** The group's known suffix variables; each unknown one is reported (a warning beside a main variable, else an error). */
function knownSuffixes(g: Group, err: Report, warn: Report): Map<string, Item> {
  const known = new Map<string, Item>();
  for (const [suffix, item] of g.suffixes) {
    if ((KNOWN_SUFFIXES as readonly string[]).includes(suffix)) {
      known.set(suffix, item);
      continue;
    }
    const { v } = item;
    const guess = closest(suffix, KNOWN_SUFFIXES);
    const prefix = v.name.slice(0, v.name.length - item.rest.length);
    const mainName = `${prefix}${g.key}`;
    if (g.main) {
      const meant = guess ? `did you mean _${guess}?` : `known suffixes: ${KNOWN_SUFFIXES.map((s) => '_' + s).join(' ')}`;
      const fix = guess
        ? `rename it to ${mainName}_${guess}`
        : `if "${g.key}_${suffix}" was meant as a key, keys may not contain "_": use ${prefix}${g.key}-${suffix}; else remove it`;
      warn(C.CONFIG_ENV_SUFFIX, v, `unknown suffix "_${suffix}" for input "${g.key}", ignored; ${meant}`, fix);
    } else if (guess) {
      err(C.CONFIG_ENV_SUFFIX, v, `unknown suffix "_${suffix}" (did you mean _${guess}?) and there is no main variable ${mainName}`, `rename it to ${mainName}_${guess} and set ${mainName}=/path/to/file.log`);
    } else {
      err(
        C.CONFIG_ENV_NAME, v,
        `logtail splits the name at its last "_": this is key "${g.key}" with unknown suffix "_${suffix}", and ${mainName} is not set`,
        `keys may not contain "_": rename it to ${prefix}${g.key}-${suffix}`,
      );
    }
  }
  return known;
}

/** Apply the convention to the variables of one scope. Later variables with the same name override earlier ones. */
export function applyConvention(vars: EnvVar[], opts: ConventionOptions): ConventionResult {
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const err: Report = (code, v, message, fix) => problems.push({ code, variable: v.name, origin: v.origin, message, fix });
  const warn: Report = (code, v, message, fix) => warnings.push({ code, variable: v.name, origin: v.origin, message, fix });

  const groups = groupByKey(stripPrefixes(lastByName(vars, warn), err, warn), err, warn);

  // 4. One input per group that has its main variable.
  const inputs: InputSpec[] = [];
  for (const g of groups.values()) {
    const known = knownSuffixes(g, err, warn);
    if (!g.main) {
      for (const { v } of known.values()) {
        const mainName = v.name.slice(0, v.name.lastIndexOf('_'));
        err(C.CONFIG_ENV_ORPHAN, v, `a suffix variable without its main variable ${mainName}: it configures nothing`, `set ${mainName}=/path/to/file.log (or stdout), or remove ${v.name}`);
      }
      continue;
    }
    const input = buildInput(g.key, g.main.v, known, opts, err, warn);
    if (input) inputs.push(input);
  }
  return { inputs, problems, warnings };
}
