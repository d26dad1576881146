// The ClickHouse sink against a real ClickHouse (Debian's clickhouse-server, 18.16 on Debian 12), started by the
// test: the sink contract (acknowledged = in the table; errors carry kind + code; close is idempotent), the table
// `?create=true` makes, repeats collapsing under FINAL, and the error kinds of a real server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSink } from '../../src/deliver/create-sink.js';
import { SinkError } from '../../src/deliver/sink.js';
import { ErrorCodes } from '../../src/errors.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { captureLogger, lineEvent, makeBatch, objectEvent } from '../unit/deliver/support.js';
import { clickHouseAvailable, startClickHouse, type ClickHouseServer } from '../helpers/clickhouse-server.js';
import { freePort } from '../helpers/agent-process.js';
import { auditEventId } from '../../src/audit/event-id.js';

const available = clickHouseAvailable();
if (!available) console.warn('clickhouse-server is not installed: run test/helpers/install-servers.sh');

let ch: ClickHouseServer;
beforeAll(async () => {
  if (available) ch = await startClickHouse();
}, 60_000);
afterAll(async () => {
  await ch?.stop();
});

function sinkFor(uri: string, env: Record<string, string | undefined> = {}) {
  const cap = captureLogger();
  const sink = createSink(uri, { logger: cap.logger, metrics: createMetrics(), env, stateDir: '/nonexistent' });
  return { sink, cap };
}

async function rejection(p: Promise<unknown>): Promise<SinkError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SinkError);
    return err as SinkError;
  }
  throw new Error('send resolved, expected a SinkError');
}

describe.skipIf(!available)('clickhouse sink on a real ClickHouse', () => {
  it('creates the table (?create=true), and an acknowledged batch is in it, one row per event with its columns', async () => {
    const { sink } = sinkFor(`clickhouse+${ch.url}/tsdb.audit1?create=true`);
    const batch = makeBatch({
      n: 3,
      tags: { audit: 'apiserver', __hostname__: 'node-1', __path__: '/var/log/kubernetes/audit.log', __cluster_id__: 'c123' },
      events: [
        objectEvent({ kind: 'Event', auditID: 'a-1', stage: 'ResponseComplete', verb: 'get', note: 'ü "q" \\ ]' }, 1_700_000_001),
        objectEvent({ kind: 'Event', auditID: 'a-2', stage: 'RequestReceived' }, 1_700_000_002, { __event_id__: 'f'.repeat(64), __truncated__: 'true' }),
        lineEvent('not json', 1_700_000_003, { __parse_error__: 'not a JSON object' }),
      ],
    });
    await sink.send(batch);
    const rows = (await ch.query('SELECT event_id, toUnixTimestamp(event_time) AS t, logstore, hostname, path, cluster_id, tags.key, tags.value, event FROM tsdb.audit1 ORDER BY t FORMAT JSONEachRow'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatchObject({
      event_id: auditEventId('c123', 'a-1', 'ResponseComplete'),
      t: 1_700_000_001,
      logstore: 'audit-store',
      hostname: 'node-1',
      path: '/var/log/kubernetes/audit.log',
      cluster_id: 'c123',
    });
    expect(JSON.parse(rows[0]!.event as string)).toEqual({ kind: 'Event', auditID: 'a-1', stage: 'ResponseComplete', verb: 'get', note: 'ü "q" \\ ]' });
    expect(rows[1]!.event_id).toBe('f'.repeat(64));
    const tags1 = Object.fromEntries((rows[1]!['tags.key'] as string[]).map((k, i) => [k, (rows[1]!['tags.value'] as string[])[i]]));
    expect(tags1).toMatchObject({ audit: 'apiserver', __truncated__: 'true', __cluster_id__: 'c123' });
    expect(tags1).not.toHaveProperty('__event_id__');
    expect(JSON.parse(rows[2]!.event as string)).toEqual({ content: 'not json' });
    const engine = await ch.query("SELECT engine, sorting_key FROM system.tables WHERE database = 'tsdb' AND name = 'audit1' FORMAT TSV").catch(async () =>
      ch.query("SELECT engine, '' FROM system.tables WHERE database = 'tsdb' AND name = 'audit1' FORMAT TSV"),
    );
    expect(engine).toMatch(/^ReplacingMergeTree/);
    await sink.close();
    await sink.close(); // idempotent
  });

  it('a batch sent twice (and a bigger batch overlapping it) leaves one row per event under FINAL', async () => {
    const { sink } = sinkFor(`clickhouse+${ch.url}/tsdb.audit2?create=true`);
    const a = makeBatch({ n: 50, first: 0 });
    await sink.send(a);
    await sink.send(a);
    await sink.send(makeBatch({ n: 100, first: 0 }));
    const [count, uniq] = (await ch.query('SELECT count(), uniqExact(event_id) FROM tsdb.audit2 FINAL FORMAT TSV')).trim().split('\t').map(Number);
    expect({ count, uniq }).toEqual({ count: 100, uniq: 100 });
    const raw = Number((await ch.query('SELECT count() FROM tsdb.audit2')).trim());
    expect(raw, 'without FINAL the repeats may still be there until a merge').toBeGreaterThanOrEqual(100);
    await sink.close();
  });

  it('credentials from TAILSHIP_CLICKHOUSE_USER/_PASSWORD go in X-ClickHouse-User/-Key and never in a log line; a wrong one is blocked', async () => {
    const good = sinkFor(`clickhouse+${ch.url}/tsdb.audit3?create=true`, { TAILSHIP_CLICKHOUSE_USER: ch.user, TAILSHIP_CLICKHOUSE_PASSWORD: ch.password });
    await good.sink.send(makeBatch({ n: 2 }));
    expect((await ch.query('SELECT count() FROM tsdb.audit3')).trim()).toBe('2');
    expect(good.cap.text()).not.toContain(ch.password);
    await good.sink.close();

    const bad = sinkFor(`clickhouse+${ch.url}/tsdb.audit3`, { TAILSHIP_CLICKHOUSE_USER: ch.user, TAILSHIP_CLICKHOUSE_PASSWORD: 'wrong-pw-123' });
    const err = await rejection(bad.sink.send(makeBatch({ n: 2 })));
    expect({ kind: err.kind, code: err.code }).toEqual({ kind: 'blocked', code: ErrorCodes.SINK_AUTH });
    expect(err.message).not.toContain('wrong-pw-123');
    expect(bad.cap.text()).not.toContain('wrong-pw-123');
    const unknown = sinkFor(`clickhouse+${ch.url}/tsdb.audit3`, { TAILSHIP_CLICKHOUSE_USER: 'nobody', TAILSHIP_CLICKHOUSE_PASSWORD: 'x' });
    expect((await rejection(unknown.sink.send(makeBatch({ n: 1 })))).code).toBe(ErrorCodes.SINK_AUTH);
    await bad.sink.close();
    await unknown.sink.close();
  });

  it('a missing table is blocked with the fix ?create=true; a missing database too', async () => {
    const t = sinkFor(`clickhouse+${ch.url}/default.nope`);
    const e1 = await rejection(t.sink.send(makeBatch({ n: 1 })));
    expect({ kind: e1.kind, code: e1.code }).toEqual({ kind: 'blocked', code: ErrorCodes.SINK_CLICKHOUSE_NO_TABLE });
    expect(e1.message).toContain('?create=true');
    const d = sinkFor(`clickhouse+${ch.url}/nodb.nope`);
    const e2 = await rejection(d.sink.send(makeBatch({ n: 1 })));
    expect({ kind: e2.kind, code: e2.code }).toEqual({ kind: 'blocked', code: ErrorCodes.SINK_CLICKHOUSE_NO_TABLE });
    await t.sink.close();
    await d.sink.close();
  });

  it('a row ClickHouse cannot parse rejects the batch (dead letter), and nothing of it is in the table', async () => {
    // A table of the user's own where a column tailship fills with text is a number.
    await ch.query('CREATE DATABASE IF NOT EXISTS tsdb');
    await ch.query('CREATE TABLE tsdb.strict (event_id String, event_time DateTime, hostname UInt32, event String) ENGINE = MergeTree() ORDER BY event_time');
    const { sink } = sinkFor(`clickhouse+${ch.url}/tsdb.strict`);
    const err = await rejection(sink.send(makeBatch({ n: 5 })));
    expect({ kind: err.kind, code: err.code }).toEqual({ kind: 'rejected', code: ErrorCodes.SINK_CLICKHOUSE_ROW_REJECTED });
    expect(err.responseBody).toMatch(/Code: \d+/);
    expect((await ch.query('SELECT count() FROM tsdb.strict')).trim()).toBe('0');
    await sink.close();
  });

  it('a table with fewer columns than tailship writes takes the rows (unknown fields are skipped)', async () => {
    await ch.query('CREATE TABLE tsdb.slim (event_id String, event_time DateTime, event String) ENGINE = ReplacingMergeTree() ORDER BY (event_time, event_id)');
    const { sink } = sinkFor(`clickhouse+${ch.url}/tsdb.slim`);
    await sink.send(makeBatch({ n: 4 }));
    expect((await ch.query('SELECT count() FROM tsdb.slim')).trim()).toBe('4');
    await sink.close();
  });

  it('a server that is down is retryable with a network code; after it restarts the same sink delivers', async () => {
    const port = await freePort();
    const { sink: down } = sinkFor(`clickhouse+http://127.0.0.1:${port}/tsdb.x?create=true&timeout=3000`);
    const err = await rejection(down.send(makeBatch({ n: 1 })));
    expect({ kind: err.kind, code: err.code }).toEqual({ kind: 'retryable', code: ErrorCodes.SINK_CLICKHOUSE_NETWORK });
    await down.close();

    const { sink } = sinkFor(`clickhouse+${ch.url}/tsdb.audit4?create=true`);
    await sink.send(makeBatch({ n: 3, first: 0 }));
    await ch.restart(); // SIGKILL of the store: what it acknowledged must still be there
    expect((await ch.query('SELECT count() FROM tsdb.audit4')).trim()).toBe('3');
    await sink.send(makeBatch({ n: 3, first: 3 }));
    expect((await ch.query('SELECT count(), uniqExact(event_id) FROM tsdb.audit4 FINAL FORMAT TSV')).trim()).toBe('6\t6');
    await sink.close();
  }, 60_000);

  it('send after close fails (never acknowledges), and an aborted send rejects with the signal reason', async () => {
    const { sink } = sinkFor(`clickhouse+${ch.url}/tsdb.audit5?create=true`);
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(sink.send(makeBatch({ n: 1 }), ac.signal)).rejects.toThrow('stop');
    await sink.close();
    const err = await rejection(sink.send(makeBatch({ n: 1 })));
    expect(err.kind).toBe('retryable');
  });
});
