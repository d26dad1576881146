// What `tailship config` prints: the resolved configuration as one JSON-able object, secrets masked.

import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { maskSinkUri } from '../deliver/mask-uri.js';
import { isSecretName } from '../observe/log.js';
import { formatOrigin } from './env-convention.js';
import type { AgentOptions, ConfigProblem, InputSpec, ResolvedConfig } from './types.js';
import { isAckAuditLogstore } from '../convention/audit-logstore.js';

const MASK = '***';
/** Env names shown by `tailship config` (values of secret-looking names masked). */
const SHOWN_ENV = /^(TAILSHIP_|ALIBABA_CLOUD_|ALICLOUD_LOG_|NODE_NAME$)/;

function whyJson(i: InputSpec): string | undefined {
  if (!i.json) return undefined;
  if (i.product === 'k8s-audit') return 'product k8s-audit';
  if (isAckAuditLogstore(i.logstore)) return 'ACK audit logstore (audit- + 33-character cluster id)';
  return '_jsonfile';
}

function describeInput(i: InputSpec) {
  const glob = /[*?]/.test(path.posix.basename(i.hostPath));
  return {
    key: i.key,
    origin: formatOrigin(i.origin),
    source: i.origin,
    path: i.path,
    hostPath: i.hostPath,
    ...(i.stdout ? { stdout: true } : { glob, hostDirExists: existsSync(path.posix.dirname(i.hostPath)) }),
    logstore: i.logstore,
    ...(i.project !== undefined ? { project: i.project } : {}),
    ...(i.product !== undefined ? { product: i.product } : {}),
    json: i.json,
    ...(i.json ? { jsonBecause: whyJson(i) } : {}),
    tags: i.tags,
    shard: i.shard,
    ttl: i.ttl,
    logstoreMode: i.logstoreMode,
    extra: i.extra,
  };
}

function describeProblem(p: ConfigProblem) {
  return { code: p.code, variable: p.variable, origin: formatOrigin(p.origin), message: p.message, fix: p.fix };
}

/** The JSON object `tailship config` prints. */
export function describeConfig(options: AgentOptions, resolved: ResolvedConfig, env: NodeJS.ProcessEnv): object {
  const environment: Record<string, string> = {};
  for (const name of Object.keys(env).sort()) {
    const v = env[name];
    if (!SHOWN_ENV.test(name) || v === undefined) continue;
    environment[name] = isSecretName(name) ? MASK : name === 'TAILSHIP_SINK' ? v.split(',').map(maskSinkUri).join(',') : v;
  }
  return {
    valid: resolved.problems.length === 0,
    hostname: env.NODE_NAME || hostname(),
    options: { ...options, sink: maskSinkUri(options.sink), sinks: (options.sinks ?? [options.sink]).map(maskSinkUri) },
    environment,
    inputs: resolved.inputs.map(describeInput),
    skipped: resolved.skipped.map((i) => ({ ...describeInput(i), reason: 'stdout is not collected from files' })),
    errors: resolved.problems.map(describeProblem),
    warnings: resolved.warnings.map(describeProblem),
  };
}
