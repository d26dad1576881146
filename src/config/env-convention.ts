// The logtail `aliyun_logs_{key}[_{suffix}]` convention (SPEC §2, research logtail-sls.md §1.1–1.2), as a pure
// function from a list of variables of one scope (one container, or the agent's env plus its env files) to inputs.

import path from 'node:path';
import type { ConfigProblem, InputSpec, Origin } from './types.js';
import { isAckAuditLogstore } from '../convention/audit-logstore.js';
import { ErrorCodes as C, type ErrorCode } from '../errors.js';

/** `loong_logs_` first: it wins over `aliyun_logs_` for the same rest-of-name, as in LoongCollector. */
export const PREFIXES = ['loong_logs_', 'aliyun_logs_'] as const;

export const KEY_RE = /^[a-z0-9-]+$/;

/** Every suffix logtail's env config understood (2024 code, research §1.2). */
export const KNOWN_SUFFIXES = [
  'tags',
  'project',
  'logstore',
  'shard',
  'ttl',
  'machinegroup',
  'logstoremode',
  'jsonfile',
  'product',
  'language',
  'detail',
  'dockerfile',
  'configtags',
  'logstorehotttl',
  'logstoretelemetrytype',
  'logstoreappendmeta',
  'logstoremaxsplitshard',
  'logstoreenabletracking',
  'logstoreautosplit',
  'logstoreencryptconf',
] as const;

const STDOUT_VALUES = new Set(['stdout', 'stdout-only', 'stderr-only']);
const PLACEHOLDER_RE = /\$?\{\s*cluster[_-]?id\s*\}/i;
const RESERVED_TAG_RE = /^__.*__$/;

export interface EnvVar {
  name: string;
  value: string;
  origin: Origin;
  /** Set when the value cannot be known offline (a manifest `valueFrom`): why. */
  unresolved?: string;
}

/** Maps a configured (container) path to a host path, without the host root. */
export type PathMapper = (configuredPath: string, main: EnvVar) => { hostPath: string } | { message: string; fix: string };

export interface ConventionOptions {
  /** `--host-root`, put in front of every host path. */
  hostRoot: string;
  /** `TAILSHIP_TAGS`, added to every input. */
  globalTags: Record<string, string>;
  /** For manifest inputs; without it the configured path is the host path (env and env-file inputs). */
  mapPath?: PathMapper;
}

export interface ConventionResult {
  inputs: InputSpec[];
  problems: ConfigProblem[];
  warnings: ConfigProblem[];
}

/** `--host-root` + host path. A relative root is made absolute so that `tailship config` shows what is read. */
export function joinHostRoot(hostRoot: string, hostPath: string): string {
  if (!hostRoot) return hostPath;
  const root = path.posix.isAbsolute(hostRoot) ? path.posix.normalize(hostRoot) : path.resolve(hostRoot);
  const trimmed = root.replace(/\/+$/, '');
  return trimmed === '' ? hostPath : trimmed + hostPath;
}

/** Levenshtein distance, for did-you-mean hints. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The closest of `candidates` to `word`, if it is close enough to be a plausible typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = w === c ? 0 : c.startsWith(w) || w.startsWith(c) ? 1 : editDistance(w, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  const limit = Math.max(2, Math.floor(w.length / 3));
  return best !== undefined && bestD <= limit ? best : undefined;
}

/** Split the part after the prefix at its last `_` (logtail's rule). */
export function splitRest(rest: string): { key: string; suffix: string } {
  const i = rest.lastIndexOf('_');
  return i < 0 ? { key: rest, suffix: '' } : { key: rest.slice(0, i), suffix: rest.slice(i + 1) };
}

/** A key the user probably meant: lowercase, every other character made a `-`. */
function suggestKey(key: string): string {
  const s = key
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return s || 'my-app';
}

/** Parse one `_tags` value or one TAILSHIP_TAGS item: split at the first `=`; no `=` ⇒ key and value are the value. */
export function parseTag(value: string): { key: string; value: string } | { error: string; fix: string } {
  const eq = value.indexOf('=');
  const key = eq < 0 ? value : value.slice(0, eq);
  const val = eq < 0 ? value : value.slice(eq + 1);
  if (key === '') {
    return value === ''
      ? { error: 'the tag is empty', fix: 'give it as KEY=VALUE, e.g. audit=apiserver, or remove the variable' }
      : { error: `the tag "${value}" has an empty key`, fix: 'give it as KEY=VALUE, e.g. audit=apiserver' };
  }
  if (RESERVED_TAG_RE.test(key)) {
    return { error: `the tag key "${key}" is reserved (tailship's own tags look like __name__)`, fix: 'choose another tag key' };
  }
  return { key, value: val };
}

interface Item {
  v: EnvVar;
  rest: string;
}

interface Group {
  key: string;
  main?: Item;
  suffixes: Map<string, Item>;
}

function isLoong(name: string): boolean {
  return name.startsWith('loong_logs_');
}

/** Apply the convention to the variables of one scope. Later variables with the same name override earlier ones. */
export function applyConvention(vars: EnvVar[], opts: ConventionOptions): ConventionResult {
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const err: Report = (code, v, message, fix) => problems.push({ code, variable: v.name, origin: v.origin, message, fix });
  const warn: Report = (code, v, message, fix) => warnings.push({ code, variable: v.name, origin: v.origin, message, fix });

  // 1. One value per name: the last one given (env files in order, then the process env; k8s does the same for env[]).
  const byName = new Map<string, EnvVar>();
  for (const v of vars) {
    const prev = byName.get(v.name);
    if (prev && prev.value !== v.value) {
      warn(C.CONFIG_ENV_OVERRIDDEN, v, `also set (to a different value) at ${formatOrigin(prev.origin)}; this value is used`, 'set the variable in one place only');
    }
    byName.delete(v.name); // keep first-seen order stable for the last definition
    byName.set(v.name, v);
  }

  // 2. Strip the prefix; `loong_logs_` wins over `aliyun_logs_` for the same rest-of-name.
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

  // 3. Split at the last `_` into key and suffix, group by key.
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

  // 4. One input per group that has its main variable.
  const inputs: InputSpec[] = [];
  for (const g of groups.values()) {
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

type Report = (code: ErrorCode, v: EnvVar, message: string, fix: string) => void;

/** Validate the main value (path or stdout). Returns an error text and fix, or undefined when fine. */
export function checkPath(value: string): { message: string; fix: string } | undefined {
  if (value === '') return { message: 'the path is empty', fix: 'set it to an absolute file path, e.g. /var/log/app/app.log, or stdout' };
  if (value.trim() !== value) return { message: `the path "${value}" has leading or trailing spaces`, fix: 'remove the spaces' };
  if (!value.startsWith('/')) {
    return { message: `the path "${value}" is relative`, fix: `give an absolute path (starting with "/"), e.g. /${value.replace(/^(\.{1,2}\/+)+/, '')}` };
  }
  if (value.endsWith('/')) {
    return { message: `the path "${value}" names a directory`, fix: `name the file, or a glob in the last segment, e.g. ${value}*.log` };
  }
  const slash = value.lastIndexOf('/');
  if (slash === 0) return { message: `the path "${value}" is a file directly under "/", which logtail rejects`, fix: 'put the file in a directory, e.g. /var/log' + value };
  const dir = value.slice(0, slash);
  if (/[*?]/.test(dir)) {
    return { message: `the path "${value}" has a glob in a directory; only the last segment may hold * and ?`, fix: 'name the directory literally (one input per directory)' };
  }
  if (value.split('/').some((s) => s === '.' || s === '..')) {
    return { message: `the path "${value}" has "." or ".." segments`, fix: `write it normalised: ${path.posix.normalize(value)}` };
  }
  return undefined;
}

function intInRange(v: EnvVar, lo: number, hi: number, def: number, what: string, err: Report): number {
  const n = /^[0-9]+$/.test(v.value.trim()) ? Number(v.value.trim()) : NaN;
  if (Number.isInteger(n) && n >= lo && n <= hi) return n;
  err(
    C.CONFIG_ENV_VALUE, v,
    `${what} "${v.value}" is not a whole number from ${lo} to ${hi} (logtail would silently use ${def} or clamp it)`,
    `set it to a number from ${lo} to ${hi}, or remove it for the default ${def}`,
  );
  return def;
}

function buildInput(
  key: string,
  main: EnvVar,
  suffixes: Map<string, Item>,
  opts: ConventionOptions,
  err: Report,
  warn: Report,
): InputSpec | undefined {
  if (main.unresolved) {
    err(C.CONFIG_ENV_PATH, main, `the path cannot be read offline: ${main.unresolved}`, 'give the path as a literal env[].value');
    return undefined;
  }
  if (PLACEHOLDER_RE.test(main.value)) {
    err(C.CONFIG_ENV_PLACEHOLDER, main, `the value "${main.value}" holds an unreplaced {cluster_id} placeholder`, 'replace ${cluster_id} with your cluster id');
    return undefined;
  }
  const stdout = STDOUT_VALUES.has(main.value);
  if (!stdout) {
    const bad = checkPath(main.value);
    if (bad) {
      err(C.CONFIG_ENV_PATH, main, bad.message, bad.fix);
      return undefined;
    }
  }

  const values = new Map<string, EnvVar>();
  for (const [suffix, { v }] of suffixes) {
    if (v.unresolved) {
      warn(C.CONFIG_ENV_VALUE, v, `ignored: its value cannot be read offline (${v.unresolved})`, 'give it as a literal env[].value');
      continue;
    }
    if (PLACEHOLDER_RE.test(v.value)) {
      err(C.CONFIG_ENV_PLACEHOLDER, v, `the value "${v.value}" holds an unreplaced {cluster_id} placeholder`, 'replace ${cluster_id} with your cluster id');
      continue;
    }
    values.set(suffix, v);
  }

  const input: InputSpec = {
    key,
    origin: main.origin,
    path: main.value,
    hostPath: '',
    stdout,
    tags: {},
    json: false,
    logstore: key,
    shard: 2,
    ttl: 90,
    logstoreMode: 'standard',
    extra: {},
  };

  const tagVar = values.get('tags');
  if (tagVar) {
    const t = parseTag(tagVar.value);
    if ('error' in t) err(C.CONFIG_ENV_VALUE, tagVar, t.error, t.fix);
    else input.tags[t.key] = t.value;
  }
  for (const [k, val] of Object.entries(opts.globalTags)) {
    if (tagVar && k in input.tags && input.tags[k] !== val) {
      warn(C.CONFIG_ENV_OVERRIDDEN, tagVar, `tag "${k}" is also set by TAILSHIP_TAGS, which wins (as the agent's own tags do in logtail)`, `remove "${k}" from one of them`);
    }
    input.tags[k] = val;
  }

  const nonEmpty = (s: string): EnvVar | undefined => {
    const v = values.get(s);
    if (v && v.value === '') {
      warn(C.CONFIG_ENV_VALUE, v, 'ignored: the value is empty', `remove it or give a value`);
      return undefined;
    }
    return v;
  };

  const product = nonEmpty('product');
  if (product) input.product = product.value;
  const logstore = nonEmpty('logstore');
  if (logstore) input.logstore = logstore.value;
  const project = nonEmpty('project');
  if (project) input.project = project.value;

  const jsonfile = values.get('jsonfile');
  if (jsonfile) {
    if (jsonfile.value === 'true' || jsonfile.value === 'TRUE') input.json = true;
    else if (jsonfile.value !== 'false' && jsonfile.value !== 'FALSE') {
      warn(C.CONFIG_ENV_VALUE, jsonfile, `"${jsonfile.value}" is neither true/TRUE nor false/FALSE; like logtail, it is taken as false`, 'write true or false');
    }
  }
  // Logtail's hard-coded audit rule (research §1.2): these are JSON whatever _jsonfile says.
  if (input.product === 'k8s-audit') input.json = true;
  if (isAckAuditLogstore(input.logstore)) input.json = true;

  const shard = values.get('shard');
  if (shard) input.shard = intInRange(shard, 1, 10, 2, 'shard count', err);
  const ttl = values.get('ttl');
  if (ttl) input.ttl = intInRange(ttl, 1, 3650, 90, 'ttl (days)', err);
  const mode = values.get('logstoremode');
  if (mode) {
    if (mode.value === 'standard' || mode.value === 'query') input.logstoreMode = mode.value;
    else err(C.CONFIG_ENV_VALUE, mode, `logstore mode "${mode.value}" is not standard or query (logtail would silently use standard)`, 'set it to standard or query, or remove it');
  }

  for (const [suffix, v] of values) {
    if (['tags', 'product', 'logstore', 'project', 'jsonfile', 'shard', 'ttl', 'logstoremode'].includes(suffix)) continue;
    checkExtra(suffix, v, warn);
    input.extra[suffix] = v.value;
  }

  if (!stdout) {
    // `_dockerfile=false`: logtail reads the path on the host, not through the container's mounts.
    const dockerfile = values.get('dockerfile');
    const hostSide = dockerfile !== undefined && (dockerfile.value === 'false' || dockerfile.value === 'FALSE');
    if (opts.mapPath && !hostSide) {
      const mapped = opts.mapPath(main.value, main);
      if ('message' in mapped) {
        err(C.CONFIG_MANIFEST_MOUNT, main, mapped.message, mapped.fix);
        return undefined;
      }
      input.hostPath = joinHostRoot(opts.hostRoot, mapped.hostPath);
    } else {
      input.hostPath = joinHostRoot(opts.hostRoot, main.value);
    }
  }
  return input;
}

/** The other suffixes do not change what is read; a bad value is a warning (logtail ignored or rejected it at the store). */
function checkExtra(suffix: string, v: EnvVar, warn: Report): void {
  const isBool = (s: string) => /^(true|false)$/i.test(s);
  const isJsonObject = (s: string) => {
    try {
      const x: unknown = JSON.parse(s);
      return typeof x === 'object' && x !== null && !Array.isArray(x);
    } catch {
      return false;
    }
  };
  switch (suffix) {
    case 'logstoreappendmeta':
    case 'logstoreenabletracking':
    case 'logstoreautosplit':
    case 'dockerfile':
      if (!isBool(v.value)) warn(C.CONFIG_ENV_VALUE, v, `"${v.value}" is not true or false`, 'write true or false');
      break;
    case 'configtags':
    case 'logstoreencryptconf':
    case 'detail':
      if (!isJsonObject(v.value)) warn(C.CONFIG_ENV_VALUE, v, 'the value is not a JSON object', 'give a JSON object, e.g. {"k":"v"}');
      break;
    case 'logstorehotttl':
      if (!/^[0-9]+$/.test(v.value) || Number(v.value) < 30) warn(C.CONFIG_ENV_VALUE, v, `hot ttl "${v.value}" is not a whole number of days ≥ 30`, 'set it to 30 or more, or remove it');
      break;
    case 'logstoremaxsplitshard':
      if (!/^[0-9]+$/.test(v.value) || Number(v.value) < 1 || Number(v.value) > 256) {
        warn(C.CONFIG_ENV_VALUE, v, `"${v.value}" is not a whole number from 1 to 256`, 'set it to 1..256, or remove it for the default 32');
      }
      break;
    default:
      break;
  }
}

/** One short text for an origin: `env`, `FILE:LINE`, `manifest FILE (pod P, container C)`. */
export function formatOrigin(o: Origin): string {
  switch (o.kind) {
    case 'env':
      return 'env';
    case 'file':
      return o.line > 0 ? `${o.file}:${o.line}` : o.file;
    case 'manifest':
      return `manifest ${o.file} (pod ${o.pod}, container ${o.container})`;
  }
}
