// The names of the logtail env convention (SPEC §2, research logtail-sls.md §1.1–1.2): prefixes, keys, suffixes.

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

export const STDOUT_VALUES = new Set(['stdout', 'stdout-only', 'stderr-only']);
export const PLACEHOLDER_RE = /\$?\{\s*cluster[_-]?id\s*\}/i;

/** Split the part after the prefix at its last `_` (logtail's rule). */
export function splitRest(rest: string): { key: string; suffix: string } {
  const i = rest.lastIndexOf('_');
  return i < 0 ? { key: rest, suffix: '' } : { key: rest.slice(0, i), suffix: rest.slice(i + 1) };
}

/** A key the user probably meant: lowercase, every other character made a `-`. */
export function suggestKey(key: string): string {
  const s = key
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return s || 'my-app';
}

export function isLoong(name: string): boolean {
  return name.startsWith('loong_logs_');
}
