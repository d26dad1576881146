// Checks of the values of the env convention's variables (SPEC §2): paths, tags, numbers, the other suffixes.

import path from 'node:path';
import type { Origin } from './types.js';
import type { EnvVar, Report } from './env-types.js';
import { ErrorCodes as C } from '../errors.js';

const RESERVED_TAG_RE = /^__.*__$/;

/** `--host-root` + host path. A relative root is made absolute so that `tailship config` shows what is read. */
export function joinHostRoot(hostRoot: string, hostPath: string): string {
  if (!hostRoot) return hostPath;
  const root = path.posix.isAbsolute(hostRoot) ? path.posix.normalize(hostRoot) : path.resolve(hostRoot);
  const trimmed = root.replace(/\/+$/, '');
  return trimmed === '' ? hostPath : trimmed + hostPath;
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

export function intInRange(v: EnvVar, lo: number, hi: number, def: number, what: string, err: Report): number {
  const n = /^[0-9]+$/.test(v.value.trim()) ? Number(v.value.trim()) : NaN;
  if (Number.isInteger(n) && n >= lo && n <= hi) return n;
  err(
    C.CONFIG_ENV_VALUE, v,
    `${what} "${v.value}" is not a whole number from ${lo} to ${hi} (logtail would silently use ${def} or clamp it)`,
    `set it to a number from ${lo} to ${hi}, or remove it for the default ${def}`,
  );
  return def;
}

/** The other suffixes do not change what is read; a bad value is a warning (logtail ignored or rejected it at the store). */
export function checkExtra(suffix: string, v: EnvVar, warn: Report): void {
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
