// Items 5 and 7 of issue 10: env names that are almost right. A `TAILSHIP_` variable that is not known, and a
// variable that looks like a mistyped `aliyun_logs_` prefix (`aliyun_log_a`), are warnings with the closest name.

import { RELAUNCHED_ENV } from '../launch/heap-bound.js';
import { ErrorCodes } from '../errors.js';
import { closest, PREFIXES } from '../config/env-convention.js';
import { FLAGS } from '../config/options.js';
import type { ConfigProblem, Origin } from '../config/types.js';

/** Every TAILSHIP_ variable tailship reads, besides the flags' (SPEC §1, §3, §6, §8 and the deployment). */
const OTHER_KNOWN = [
  'TAILSHIP_TAGS',
  'TAILSHIP_SLS_CREDENTIALS_FILE',
  'TAILSHIP_HTTP_AUTHORIZATION',
  'TAILSHIP_AUDIT_POLICY',
  'TAILSHIP_CLUSTER_ID',
  'TAILSHIP_LEGACY_KEEP_RAW',
  'TAILSHIP_MAX_EVENT_BYTES',
  'TAILSHIP_REDACT',
  'TAILSHIP_WEBHOOK_KEY',
  'TAILSHIP_WEBHOOK_LISTEN',
  RELAUNCHED_ENV, // set by the relaunch under the heap flags (src/launch/heap-bound.ts), never by the user
  // the stores of issue 14 (SPEC §10): credentials, and /readyz's sink threshold
  'TAILSHIP_CLICKHOUSE_USER',
  'TAILSHIP_CLICKHOUSE_PASSWORD',
  'TAILSHIP_ES_API_KEY',
  'TAILSHIP_ES_USERNAME',
  'TAILSHIP_ES_PASSWORD',
  'TAILSHIP_LOKI_TENANT',
  'TAILSHIP_LOKI_USERNAME',
  'TAILSHIP_LOKI_PASSWORD',
  'TAILSHIP_LOKI_BEARER_TOKEN',
  'TAILSHIP_OTLP_AUTHORIZATION',
  'TAILSHIP_SINK_UNHEALTHY_MS',
];

export function knownTailshipNames(): string[] {
  return [...new Set([...FLAGS.map((f) => f.env), ...OTHER_KNOWN])].sort();
}

/** Item 7: a warning per unknown `TAILSHIP_*` name, with the closest known one. */
export function unknownTailshipVars(env: NodeJS.ProcessEnv): ConfigProblem[] {
  const known = knownTailshipNames();
  const out: ConfigProblem[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.toUpperCase().startsWith('TAILSHIP_') || known.includes(name)) continue;
    const upper = name.toUpperCase();
    const guess = known.includes(upper) ? upper : closest(upper.slice('TAILSHIP_'.length), known.map((k) => k.slice('TAILSHIP_'.length).toLowerCase()));
    const meant = guess === undefined ? undefined : known.includes(guess) ? guess : `TAILSHIP_${guess.toUpperCase()}`;
    out.push({
      code: ErrorCodes.CONFIG_ENV_NAME,
      variable: name,
      origin: { kind: 'env' },
      message: `${name} is not a tailship variable and is ignored${meant ? `; did you mean ${meant}?` : ''}`,
      fix: meant ? `rename it to ${meant}` : `remove it; known: ${known.join(', ')}`,
    });
  }
  return out;
}

/** Item 5: names that look like a mistyped input prefix (`aliyun_log_a`, `Aliyun-logs-x`), with the fix. */
export function nearPrefixVars(vars: Array<{ name: string; origin: Origin }>): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const v of vars) {
    const lower = v.name.toLowerCase();
    if (PREFIXES.some((p) => lower.startsWith(p))) continue;
    const m = /^([a-z]+)[_-]([a-z]+)[_-](.+)$/.exec(lower);
    if (!m) continue;
    const guess = closest(`${m[1]}_${m[2]}_`, PREFIXES);
    if (!guess) continue;
    const meant = `${guess}${v.name.slice(m[1]!.length + m[2]!.length + 2)}`;
    out.push({
      code: ErrorCodes.CONFIG_ENV_NAME,
      variable: v.name,
      origin: v.origin,
      message: `${v.name} is not read as an input (inputs start with ${PREFIXES.join(' or ')}); did you mean ${meant}?`,
      fix: `rename ${v.name} to ${meant}`,
    });
  }
  return out;
}
