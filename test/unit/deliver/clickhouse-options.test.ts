import { describe, expect, it } from 'vitest';
import { parseClickHouseUri } from '../../../src/deliver/sinks/clickhouse/options.js';
import { createTableSql, rowsBody } from '../../../src/deliver/sinks/clickhouse/rows.js';
import { clickHouseCode, responseError } from '../../../src/deliver/sinks/clickhouse/errors.js';
import { featuresOf } from '../../../src/deliver/sinks/clickhouse/clickhouse-sink.js';
import { ErrorCodes, TailshipError } from '../../../src/errors.js';
import { lineEvent, makeBatch, objectEvent } from './support.js';

function uriError(uri: string, env = {}): TailshipError {
  try {
    parseClickHouseUri(uri, env);
  } catch (err) {
    expect(err).toBeInstanceOf(TailshipError);
    return err as TailshipError;
  }
  throw new Error(`${uri} was accepted`);
}

describe('clickhouse sink URI', () => {
  it('reads host, port, database.table and the parameters', () => {
    const c = parseClickHouseUri('clickhouse+https://ch.example:8443/audit.events?create=true&gzip=6&timeout=5000', {});
    expect(c).toMatchObject({ origin: 'https://ch.example:8443', basePath: '/', database: 'audit', table: 'events', create: true, gzipLevel: 6, timeoutMs: 5000, insecure: false });
    expect(parseClickHouseUri('clickhouse+http://h:8123/t', {})).toMatchObject({ database: 'default', table: 't', create: false, gzipLevel: 3 });
    expect(parseClickHouseUri('clickhouse+http://h:8123/proxy/ch/db.t?gzip=false', {})).toMatchObject({ basePath: '/proxy/ch/', gzipLevel: 0 });
  });

  it('credentials: env wins over user info, neither is in display', () => {
    const c = parseClickHouseUri('clickhouse+http://u:p%40ss@h:8123/db.t', {});
    expect(c).toMatchObject({ user: 'u', password: 'p@ss' });
    expect(c.display).not.toContain('p@ss');
    const e = parseClickHouseUri('clickhouse+http://u:p@h:8123/db.t', { TAILSHIP_CLICKHOUSE_USER: 'envu', TAILSHIP_CLICKHOUSE_PASSWORD: 'envp' });
    expect(e).toMatchObject({ user: 'envu', password: 'envp' });
    expect(parseClickHouseUri('clickhouse+http://h/db.t', { TAILSHIP_CLICKHOUSE_PASSWORD: 'x' }).user).toBe('default');
  });

  it.each([
    'clickhouse+http://h:8123/',
    'clickhouse+http://h:8123/db.',
    'clickhouse+http://h:8123/a.b.c',
    'clickhouse+http://h:8123/db.t?create=maybe',
    'clickhouse+http://h:8123/db.t?gzip=11',
    'clickhouse+http://h:8123/db.t?nope=1',
    'clickhouse+http://h:8123/db.t?ca=/nonexistent/ca.pem',
    'clickhouse+http://h:8123/db.t%60x',
    'clickhouse+ftp://h/db.t',
  ])('%s is refused with the URI code', (uri) => {
    expect(uriError(uri).code).toBe(ErrorCodes.SINK_CLICKHOUSE_URI);
  });
});

describe('clickhouse rows and DDL', () => {
  it('one JSONEachRow line per event, with id, time, tags and the event JSON as a string', () => {
    const batch = makeBatch({
      tags: { audit: 'apiserver', __hostname__: 'node-1', __path__: '/p', __cluster_id__: 'c9' },
      events: [objectEvent({ auditID: 'a', stage: 'ResponseComplete' }, 1_700_000_000), lineEvent('raw "line"', 5, { __event_id__: 'e'.repeat(64), __truncated__: 'true' })],
    });
    const w = rowsBody(batch);
    const lines = w.bytes().toString('utf8').split('\n');
    w.release();
    expect(lines.pop()).toBe('');
    const rows = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows[0]).toMatchObject({ event_time: 1_700_000_000, event_time_ns: 0, logstore: 'audit-store', hostname: 'node-1', path: '/p', cluster_id: 'c9', event: '{"auditID":"a","stage":"ResponseComplete"}' });
    expect(rows[0]!['tags.key']).toEqual(['audit', '__hostname__', '__path__', '__cluster_id__']);
    expect(rows[1]).toMatchObject({ event_id: 'e'.repeat(64), event: '{"content":"raw \\"line\\""}' });
    expect(rows[1]!['tags.key']).toEqual(['audit', '__hostname__', '__path__', '__cluster_id__', '__truncated__']);
  });

  it('the same batch makes the same bytes (a repeat is a repeat)', () => {
    const a = rowsBody(makeBatch({ n: 20 })).bytes().toString();
    const b = rowsBody(makeBatch({ n: 20 })).bytes().toString();
    expect(a).toBe(b);
  });

  it('DDL: 18.16 types only, ReplacingMergeTree ordered by (event_time, event_id); dedup window only when asked', () => {
    const sql = createTableSql({ database: 'db', table: 't' });
    expect(sql).toMatch(/ENGINE = ReplacingMergeTree\(\) PARTITION BY toYYYYMM\(event_time\) ORDER BY \(event_time, event_id\)$/);
    expect(sql).not.toMatch(/Map|JSON|LowCardinality|DateTime64|CODEC/);
    expect(createTableSql({ database: 'db', table: 't' }, 1000)).toMatch(/SETTINGS non_replicated_deduplication_window = 1000$/);
  });

  it('server features from version(): the token from 22.2, async_insert from 21.11', () => {
    expect(featuresOf('18.16.1')).toMatchObject({ dedupToken: false, asyncInsert: false });
    expect(featuresOf('21.11.3.6')).toMatchObject({ dedupToken: false, asyncInsert: true });
    expect(featuresOf('22.2.1')).toMatchObject({ dedupToken: true, asyncInsert: true });
    expect(featuresOf('24.8.4.13')).toMatchObject({ dedupToken: true });
  });
});

describe('clickhouse answers → sink error kinds', () => {
  const err = (status: number, body: string, headers: Record<string, string> = {}) => {
    const e = responseError('w', status, headers, body);
    return { kind: e.kind, code: e.code };
  };
  it('reads the code from the header (newer servers) or the body (18.16)', () => {
    expect(clickHouseCode({ 'x-clickhouse-exception-code': '516' }, '')).toBe(516);
    expect(clickHouseCode({}, 'Code: 60, e.displayText() = DB::Exception: Table x doesn\'t exist.')).toBe(60);
  });
  it.each([
    [401, 'Code: 192, e.displayText() = DB::Exception: Unknown user nobody', 'blocked', ErrorCodes.SINK_AUTH],
    [401, 'Code: 193, Wrong password', 'blocked', ErrorCodes.SINK_AUTH],
    [403, 'Code: 516. DB::Exception: default: Authentication failed', 'blocked', ErrorCodes.SINK_AUTH],
    [404, "Code: 60, Table ts.nope doesn't exist.", 'blocked', ErrorCodes.SINK_CLICKHOUSE_NO_TABLE],
    [404, "Code: 81, Database nodb doesn't exist", 'blocked', ErrorCodes.SINK_CLICKHOUSE_NO_TABLE],
    [500, 'Code: 27, Cannot parse input: expected "', 'rejected', ErrorCodes.SINK_CLICKHOUSE_ROW_REJECTED], // 18.16 says 500
    [400, 'Code: 117. DB::Exception: Unknown field found', 'rejected', ErrorCodes.SINK_CLICKHOUSE_ROW_REJECTED],
    [500, 'Code: 241, Memory limit exceeded', 'retryable', ErrorCodes.SINK_CLICKHOUSE_SERVER],
    [500, 'Code: 252, Too many parts (300)', 'retryable', ErrorCodes.SINK_CLICKHOUSE_SERVER],
    [503, '', 'retryable', ErrorCodes.SINK_CLICKHOUSE_SERVER],
    [502, '<html>bad gateway</html>', 'retryable', ErrorCodes.SINK_CLICKHOUSE_SERVER],
    [413, '', 'too-large', ErrorCodes.SINK_TOO_LARGE],
    [500, 'Code: 164, Cannot execute query in readonly mode', 'blocked', ErrorCodes.SINK_CLICKHOUSE_TABLE],
    [404, 'not found', 'blocked', ErrorCodes.SINK_CLICKHOUSE_TABLE],
    [400, 'bad request', 'rejected', ErrorCodes.SINK_CLICKHOUSE_ROW_REJECTED],
  ])('%i %s → %s', (status, body, kind, code) => {
    expect(err(status, body)).toEqual({ kind, code });
  });
});

describe('clickhouse sink: SPEC §10 per-sink parameters', () => {
  it('?policy=, ?redact=, ?schema= are left to the fan-out (accepted, not an error)', () => {
    expect(parseClickHouseUri('clickhouse+http://h:8123/db.t?schema=ocsf&redact=secrets&policy=/p.yaml', {})).toMatchObject({ database: 'db', table: 't' });
  });
});
