import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ErrorCodes, TailshipError } from '../../../errors.js';
import { boolParam, FANOUT_PARAMS, timeoutParam } from '../../uri-params.js';

export const DEFAULT_TIMEOUT_MS = 30_000;

/** RFC 5424 §6.2.1 facility names (as rsyslog spells them) → code. */
export const FACILITIES: Record<string, number> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  ntp: 12, audit: 13, alert: 14, clock: 15, local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21,
  local6: 22, local7: 23,
};
export const SEVERITIES: Record<string, number> = {
  emerg: 0, alert: 1, crit: 2, err: 3, error: 3, warning: 4, warn: 4, notice: 5, info: 6, debug: 7,
};

/**
 * Default facility `authpriv` (10): Kubernetes audit events hold who did what with which credentials, and every
 * common syslog setup already routes authpriv to a file only root can read (Debian: /var/log/auth.log) and keeps
 * it out of the world-readable catch-alls. RFC 5424's `log audit` (13) names the content better, but receivers
 * have no default routing for it. Severity `info`: an audit record is a normal event, not an alarm.
 */
export const DEFAULT_FACILITY = FACILITIES.authpriv!;
export const DEFAULT_SEVERITY = SEVERITIES.info!;

export interface SyslogConfig {
  tls: boolean;
  host: string;
  port: number;
  /** SNI and certificate name check: the host unless it is an IP address. */
  servername?: string;
  facility: number;
  severity: number;
  /** `?bom=true`: MSG starts with a UTF-8 BOM (RFC 5424 MSG-UTF8). Off by default, see format.ts. */
  bom: boolean;
  timeoutMs: number;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecure: boolean;
  display: string;
}

const KNOWN = new Set(['facility', 'severity', 'bom', 'timeout', 'ca', 'cert', 'key', 'insecure']);

function invalid(message: string, fix: string): TailshipError {
  return new TailshipError(ErrorCodes.SINK_SYSLOG_URI, `syslog sink: ${message}; ${fix}`, fix);
}

function readPem(param: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw invalid(`cannot read ?${param}=${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 'give a PEM file readable by tailship');
  }
}

/** Reads `syslog+tcp://HOST:PORT` / `syslog+tls://HOST:PORT`. Throws a TailshipError (SINK_SYSLOG_URI). */
export function parseSyslogUri(uri: string): SyslogConfig {
  const m = /^syslog\+(tcp|tls):\/\//i.exec(uri);
  if (!m) throw invalid(`"${uri.split('?')[0]}" is not syslog+tcp:// or syslog+tls://`, 'use syslog+tcp://HOST:514 or syslog+tls://HOST:6514');
  const tls = m[1]!.toLowerCase() === 'tls';
  let url: URL;
  try {
    url = new URL(`http://${uri.slice(m[0].length)}`);
  } catch {
    throw invalid('not a valid URI', 'use syslog+tcp://HOST:514 or syslog+tls://HOST:6514');
  }
  if (!url.hostname) throw invalid('no host', 'use syslog+tcp://HOST:514 or syslog+tls://HOST:6514');
  if (url.username || url.password) throw invalid('user info is not used by syslog', 'remove USER:PASSWORD@ from the URI');
  if (url.pathname !== '/' && url.pathname !== '') throw invalid(`a path (${url.pathname}) means nothing to syslog`, 'remove it');
  const q = url.searchParams;
  for (const key of q.keys()) {
    if (!KNOWN.has(key) && !FANOUT_PARAMS.has(key)) throw invalid(`unknown parameter ?${key}=`, `the parameters are ${[...KNOWN].map((k) => `?${k}=`).join(', ')}`);
  }
  const code = (key: 'facility' | 'severity', names: Record<string, number>, max: number, dflt: number): number => {
    const v = q.get(key);
    if (v === null) return dflt;
    if (/^\d+$/.test(v) && Number(v) <= max) return Number(v);
    const n = names[v.toLowerCase()];
    if (n === undefined) throw invalid(`?${key}=${v} is not valid`, `use a name (${Object.keys(names).join(', ')}) or a number 0-${max}`);
    return n;
  };
  const bool = (key: string): boolean => boolParam(q, key, invalid);
  const timeoutMs = timeoutParam(q, DEFAULT_TIMEOUT_MS, invalid);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port ? Number(url.port) : tls ? 6514 : 514;
  const cfg: SyslogConfig = {
    tls,
    host,
    port,
    ...(isIP(host) ? {} : { servername: host }),
    facility: code('facility', FACILITIES, 23, DEFAULT_FACILITY),
    severity: code('severity', SEVERITIES, 7, DEFAULT_SEVERITY),
    bom: bool('bom'),
    timeoutMs,
    insecure: bool('insecure'),
    display: `syslog+${tls ? 'tls' : 'tcp'}://${url.host}`,
  };
  for (const p of ['ca', 'cert', 'key'] as const) {
    const file = q.get(p);
    if (file === null) continue;
    if (!tls) throw invalid(`?${p}= needs TLS`, 'use syslog+tls://');
    cfg[p] = readPem(p, file);
  }
  if ((cfg.cert === undefined) !== (cfg.key === undefined)) throw invalid('a client certificate needs both ?cert= and ?key=', 'give both PEM files');
  return cfg;
}
