import { readFileSync } from 'node:fs';
import { ErrorCodes, TailshipError } from '../../../errors.js';
import { boolParam, FANOUT_PARAMS, timeoutParam } from '../../uri-params.js';

export const DEFAULT_GZIP_LEVEL = 3;
export const DEFAULT_TIMEOUT_MS = 30_000;

/** What a `clickhouse+http(s)://HOST:PORT/DATABASE.TABLE` URI asks for. */
export interface ClickHouseConfig {
  /** `http://HOST:PORT` or `https://HOST:PORT`: where the HTTP interface is. */
  origin: string;
  /** Path prefix before the query string (a proxy may put ClickHouse under a path); `/` by default. */
  basePath: string;
  database: string;
  table: string;
  /** `?create=true`: create the database and table when missing. */
  create: boolean;
  /** gzip level of the request body, 0 for none. */
  gzipLevel: number;
  timeoutMs: number;
  ca?: Buffer;
  insecure: boolean;
  /** From TAILSHIP_CLICKHOUSE_USER / _PASSWORD (or the URI's user info): sent as X-ClickHouse-User / -Key. */
  user?: string;
  password?: string;
  /** For messages: never holds credentials or query values. */
  display: string;
}

const KNOWN = new Set(['create', 'gzip', 'timeout', 'ca', 'insecure']);

function invalid(message: string, fix: string): TailshipError {
  return new TailshipError(ErrorCodes.SINK_CLICKHOUSE_URI, `clickhouse sink: ${message}; ${fix}`, fix);
}

/** Reads a clickhouse sink URI. Throws a TailshipError (code SINK_CLICKHOUSE_URI) that says what to fix. */
export function parseClickHouseUri(uri: string, env: Record<string, string | undefined>): ClickHouseConfig {
  const m = /^clickhouse\+(https?):\/\//i.exec(uri);
  if (!m) throw invalid(`"${uri.split('?')[0]}" is not clickhouse+http:// or clickhouse+https://`, 'use clickhouse+http://HOST:8123/DATABASE.TABLE');
  let url: URL;
  try {
    url = new URL(`${m[1]!.toLowerCase()}://${uri.slice(m[0].length)}`);
  } catch {
    throw invalid('not a valid URL', 'use clickhouse+http://HOST:8123/DATABASE.TABLE');
  }
  if (!url.hostname) throw invalid('no host', 'use clickhouse+http://HOST:8123/DATABASE.TABLE');
  const segments = url.pathname.split('/').filter((s) => s !== '');
  const last = segments.pop();
  if (!last) throw invalid('no table in the path', 'name it: clickhouse+http://HOST:8123/DATABASE.TABLE');
  const name = decodeURIComponent(last);
  const dot = name.indexOf('.');
  const database = dot >= 0 ? name.slice(0, dot) : 'default';
  const table = dot >= 0 ? name.slice(dot + 1) : name;
  if (database === '' || table === '' || table.includes('.')) {
    throw invalid(`"${name}" is not DATABASE.TABLE`, 'name it: clickhouse+http://HOST:8123/DATABASE.TABLE');
  }
  for (const part of [database, table]) {
    if (/[\0\r\n`\\]/.test(part)) throw invalid(`"${name}" holds a character tailship does not quote (backtick, backslash, line break)`, 'rename the table');
  }

  const q = url.searchParams;
  for (const key of q.keys()) {
    if (!KNOWN.has(key) && !FANOUT_PARAMS.has(key)) throw invalid(`unknown parameter ?${key}=`, `the parameters are ${[...KNOWN].map((k) => `?${k}=`).join(', ')}`);
  }
  const bool = (key: string): boolean => boolParam(q, key, invalid);
  let gzipLevel = DEFAULT_GZIP_LEVEL;
  const gz = q.get('gzip');
  if (gz !== null) {
    if (gz === 'false') gzipLevel = 0;
    else if (gz === 'true' || gz === '') gzipLevel = DEFAULT_GZIP_LEVEL;
    else if (/^[1-9]$/.test(gz)) gzipLevel = Number(gz);
    else throw invalid(`?gzip=${gz} is not valid`, 'use ?gzip=false, ?gzip=true or a level ?gzip=1 … ?gzip=9');
  }
  const timeoutMs = timeoutParam(q, DEFAULT_TIMEOUT_MS, invalid);
  let ca: Buffer | undefined;
  const caFile = q.get('ca');
  if (caFile !== null) {
    try {
      ca = readFileSync(caFile);
    } catch (err) {
      throw invalid(`cannot read the CA file ?ca=${caFile} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 'give a PEM file readable by tailship');
    }
  }

  // Credentials: the env wins over the URI's user info; neither ever appears in `display`.
  let user = url.username ? decodeURIComponent(url.username) : undefined;
  let password = url.password ? decodeURIComponent(url.password) : undefined;
  if (env.TAILSHIP_CLICKHOUSE_USER) user = env.TAILSHIP_CLICKHOUSE_USER;
  if (env.TAILSHIP_CLICKHOUSE_PASSWORD !== undefined && env.TAILSHIP_CLICKHOUSE_PASSWORD !== '') password = env.TAILSHIP_CLICKHOUSE_PASSWORD;
  for (const [k, v] of [['TAILSHIP_CLICKHOUSE_USER', user], ['TAILSHIP_CLICKHOUSE_PASSWORD', password]] as const) {
    if (v !== undefined && /[\r\n\0]/.test(v)) throw invalid(`${k} contains a line break`, `set ${k} to the bare value`);
  }
  if (password !== undefined && user === undefined) user = 'default';

  const basePath = segments.length ? `/${segments.join('/')}/` : '/';
  return {
    origin: url.origin,
    basePath,
    database,
    table,
    create: bool('create'),
    gzipLevel,
    timeoutMs,
    ...(ca ? { ca } : {}),
    insecure: bool('insecure'),
    ...(user !== undefined ? { user } : {}),
    ...(password !== undefined ? { password } : {}),
    display: `clickhouse+${url.origin}${basePath}${database}.${table}`,
  };
}

/** `db`.`table` quoted for ClickHouse SQL (names with backtick or backslash are refused by the parser above). */
export function quotedTable(cfg: Pick<ClickHouseConfig, 'database' | 'table'>): string {
  return `\`${cfg.database}\`.\`${cfg.table}\``;
}
