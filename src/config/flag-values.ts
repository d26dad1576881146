// SPEC §1: one flag's or env var's text checked and turned into its option value.

import { maskSinkUri } from '../deliver/mask-uri.js';
import { TailshipError } from '../errors.js';
import type { AgentOptions } from './types.js';
import { parseRedactList } from '../audit/redact/redact-list.js';
import { parseHostPort } from '../net/host-port.js';
import { LEVELS, SINK_SCHEMES, defaultText, type FlagDef } from './flags.js';
import { UsageError } from './usage-error.js';

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Never echo a sink's credentials back in an error. */
function safeValue(d: FlagDef, v: string): string {
  return d.kind === 'sink' ? maskSinkUri(v) : v;
}

export function parseValue(d: FlagDef, raw: string, from: string): AgentOptions[keyof AgentOptions] {
  const fail = (what: string, fix: string): never => {
    throw new UsageError(`${from}: ${JSON.stringify(safeValue(d, raw))} ${what}; ${fix}`, from);
  };
  const example = d.env === from ? `${d.env}=` : `${d.flag} `;
  switch (d.kind) {
    case 'path':
      if (raw.trim() === '') fail('is empty', `give a path, e.g. ${example}${d.key === 'manifests' ? '/etc/kubernetes/manifests' : '/var/lib/tailship'}`);
      return raw;
    case 'optpath':
      return raw;
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    case 'bool': {
      const s = raw.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(s)) return true;
      if (['false', '0', 'no', 'off', ''].includes(s)) return false;
      return fail('is not a boolean', `write ${d.env}=true or false`);
    }
    case 'redact':
      try {
        parseRedactList(raw);
      } catch (e) {
        if (e instanceof TailshipError) fail('is not a redact list', e.fix ?? 'use secrets, tokens, all or off');
        throw e;
      }
      return raw.trim() === '' ? 'off' : raw.trim();
    case 'bytes0':
    case 'count':
    case 'bytes':
    case 'ms': {
      const s = raw.trim();
      const m = d.kind === 'bytes' || d.kind === 'bytes0' ? /^(\d+)\s*([kmg]?)(i?b)?$/i.exec(s) : d.kind === 'ms' ? /^(\d+)\s*(ms|s|m)?$/i.exec(s) : /^(\d+)$/.exec(s);
      const unit = m?.[2]?.toLowerCase() ?? '';
      const mult = d.kind === 'bytes' || d.kind === 'bytes0' ? SIZE_UNITS[unit]! : d.kind === 'ms' ? ({ '': 1, ms: 1, s: 1000, m: 60_000 } as Record<string, number>)[unit]! : 1;
      const n = m ? Number(m[1]) * mult : NaN;
      const min = d.kind === 'ms' || d.kind === 'bytes0' ? 0 : 1;
      const hint =
        d.kind === 'bytes0' ? 'a whole number of bytes ≥ 0, optionally with K, M or G (e.g. 1M; 0 = off)' : d.kind === 'bytes' ? 'a whole number of bytes ≥ 1, optionally with K, M or G (e.g. 16M)' : d.kind === 'ms' ? 'a whole number of milliseconds ≥ 0 (or with s / m, e.g. 10s)' : 'a whole number ≥ 1';
      if (!Number.isSafeInteger(n) || n < min) fail(`is not ${hint}`, `e.g. ${example}${defaultText(d)}`);
      return n;
    }
    case 'startAt':
      if (raw !== 'beginning' && raw !== 'end') fail('is not beginning or end', `write ${example}beginning or ${example}end`);
      return raw;
    case 'level':
      if (!LEVELS.includes(raw)) fail(`is not a log level`, `use one of ${LEVELS.join(', ')}`);
      return raw;
    case 'listen': {
      if (raw === 'off') return raw;
      const hp = parseHostPort(raw);
      if ('error' in hp) {
        return hp.error === 'port-range'
          ? fail('has a port above 65535', `use a port from 0 to 65535 (0 picks a free one)`)
          : fail('is not off or HOST:PORT', `e.g. ${example}127.0.0.1:2020 (or [::]:2020 for every address, or off)`);
      }
      // An empty host (`:2020`) is every address, like [::]:2020 (dual-stack).
      return raw;
    }
    case 'key':
      if (!/^[a-z0-9-]+$/.test(raw)) fail('is not a valid input key', 'use lowercase letters, digits and "-" (e.g. audit-webhook)');
      return raw;
    case 'sink': {
      const s = raw.trim();
      if (!SINK_SCHEMES.some((p) => s.startsWith(p))) fail('is not a sink URI', `use file:DIR, stdout:, http://…, https://…, sls://ENDPOINT, sls+http://…, elasticsearch+http(s)://…/INDEX, opensearch+…, loki+http(s)://…, otlp+http(s)://…, clickhouse+http(s)://…, syslog+tcp://… or syslog+tls://…`);
      if (s === 'file:') fail('names no directory', `e.g. ${example}file:./tailship-out`);
      return s;
    }
  }
}
