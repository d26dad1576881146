// One input from one key's variables of the env convention (SPEC §2): the main value is the path (or stdout),
// the suffix variables set tags, logstore, shard, ttl and the rest.

import type { InputSpec } from './types.js';
import type { ConventionOptions, EnvVar, Item, Report } from './env-types.js';
import { PLACEHOLDER_RE, STDOUT_VALUES } from './env-names.js';
import { checkExtra, checkPath, intInRange, joinHostRoot, parseTag } from './env-values.js';
import { isAckAuditLogstore } from '../convention/audit-logstore.js';
import { ErrorCodes as C } from '../errors.js';

/** The suffixes buildInput reads itself; the others go to `extra`. */
const HANDLED = ['tags', 'product', 'logstore', 'project', 'jsonfile', 'shard', 'ttl', 'logstoremode'];

/** Whether the main value can be used: known offline, no placeholder, a stdout word or a good path. */
function mainUsable(main: EnvVar, stdout: boolean, err: Report): boolean {
  if (main.unresolved) {
    err(C.CONFIG_ENV_PATH, main, `the path cannot be read offline: ${main.unresolved}`, 'give the path as a literal env[].value');
    return false;
  }
  if (PLACEHOLDER_RE.test(main.value)) {
    err(C.CONFIG_ENV_PLACEHOLDER, main, `the value "${main.value}" holds an unreplaced {cluster_id} placeholder`, 'replace ${cluster_id} with your cluster id');
    return false;
  }
  if (!stdout) {
    const bad = checkPath(main.value);
    if (bad) {
      err(C.CONFIG_ENV_PATH, main, bad.message, bad.fix);
      return false;
    }
  }
  return true;
}

/** The suffix variables whose value is known offline and holds no placeholder. */
function usableValues(suffixes: Map<string, Item>, err: Report, warn: Report): Map<string, EnvVar> {
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
  return values;
}

/** `_tags`, then TAILSHIP_TAGS over it. */
function applyTags(input: InputSpec, values: Map<string, EnvVar>, globalTags: Record<string, string>, err: Report, warn: Report): void {
  const tagVar = values.get('tags');
  if (tagVar) {
    const t = parseTag(tagVar.value);
    if ('error' in t) err(C.CONFIG_ENV_VALUE, tagVar, t.error, t.fix);
    else input.tags[t.key] = t.value;
  }
  for (const [k, val] of Object.entries(globalTags)) {
    if (tagVar && k in input.tags && input.tags[k] !== val) {
      warn(C.CONFIG_ENV_OVERRIDDEN, tagVar, `tag "${k}" is also set by TAILSHIP_TAGS, which wins (as the agent's own tags do in logtail)`, `remove "${k}" from one of them`);
    }
    input.tags[k] = val;
  }
}

/** `_product`, `_logstore`, `_project`, `_jsonfile` and logtail's audit rule. */
function applyNames(input: InputSpec, values: Map<string, EnvVar>, warn: Report): void {
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
}

/** `_shard`, `_ttl`, `_logstoremode`, then every other suffix into `extra`. */
function applyStoreSettings(input: InputSpec, values: Map<string, EnvVar>, err: Report, warn: Report): void {
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
    if (HANDLED.includes(suffix)) continue;
    checkExtra(suffix, v, warn);
    input.extra[suffix] = v.value;
  }
}

/** The host path to read, or undefined (reported) when a manifest path is not on a mount. */
function hostPathOf(main: EnvVar, values: Map<string, EnvVar>, opts: ConventionOptions, err: Report): string | undefined {
  // `_dockerfile=false`: logtail reads the path on the host, not through the container's mounts.
  const dockerfile = values.get('dockerfile');
  const hostSide = dockerfile !== undefined && (dockerfile.value === 'false' || dockerfile.value === 'FALSE');
  if (opts.mapPath && !hostSide) {
    const mapped = opts.mapPath(main.value, main);
    if ('message' in mapped) {
      err(C.CONFIG_MANIFEST_MOUNT, main, mapped.message, mapped.fix);
      return undefined;
    }
    return joinHostRoot(opts.hostRoot, mapped.hostPath);
  }
  return joinHostRoot(opts.hostRoot, main.value);
}

export function buildInput(
  key: string,
  main: EnvVar,
  suffixes: Map<string, Item>,
  opts: ConventionOptions,
  err: Report,
  warn: Report,
): InputSpec | undefined {
  const stdout = STDOUT_VALUES.has(main.value);
  if (!mainUsable(main, stdout, err)) return undefined;
  const values = usableValues(suffixes, err, warn);
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
  applyTags(input, values, opts.globalTags, err, warn);
  applyNames(input, values, warn);
  applyStoreSettings(input, values, err, warn);
  if (!stdout) {
    const hostPath = hostPathOf(main, values, opts, err);
    if (hostPath === undefined) return undefined;
    input.hostPath = hostPath;
  }
  return input;
}
