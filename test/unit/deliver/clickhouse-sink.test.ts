// The ClickHouse sink against a small server that answers as ClickHouse's HTTP interface does (a newer version
// than Debian's, for what only newer servers get: insert_deduplication_token, async_insert=0). The real 18.16
// server is in test/integration/clickhouse-sink.test.ts.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createClickHouseSink } from '../../../src/deliver/sinks/clickhouse/clickhouse-sink.js';
import { SinkError } from '../../../src/deliver/sink.js';
import { ErrorCodes } from '../../../src/errors.js';
import { captureLogger, makeBatch } from './support.js';

interface Seen {
  params: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function fakeClickHouse(version: string, answer?: (s: Seen) => { status: number; body: string; headers?: Record<string, string> } | undefined) {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      let buf = Buffer.concat(parts);
      if (req.headers['content-encoding'] === 'gzip') buf = gunzipSync(buf);
      const s: Seen = { params: new URL(req.url!, 'http://x').searchParams, headers: req.headers, body: buf.toString('utf8') };
      seen.push(s);
      const a = answer?.(s);
      if (a) {
        res.writeHead(a.status, a.headers ?? {});
        res.end(a.body);
        return;
      }
      res.writeHead(200, { 'X-ClickHouse-Summary': '{}' });
      res.end(s.body.trim() === 'SELECT version()' ? `${version}\n` : '');
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
}

describe('clickhouse sink (protocol)', () => {
  it('on a server ≥ 22.2: asks version() once, creates with the dedup window, inserts with the token, async_insert=0, gzip, credentials headers', async () => {
    const ch = await fakeClickHouse('23.8.2.7');
    const cap = captureLogger();
    const sink = createClickHouseSink(`clickhouse+${ch.url}/db.t?create=true`, { logger: cap.logger, env: { TAILSHIP_CLICKHOUSE_USER: 'u', TAILSHIP_CLICKHOUSE_PASSWORD: 'pw-secret-9' } });
    const a = makeBatch({ n: 3, first: 0 });
    await Promise.all([sink.send(a), sink.send(makeBatch({ n: 3, first: 3 })), sink.send(a)]);
    await sink.close();
    const queries = ch.seen.map((s) => s.params.get('query') ?? s.body.trim());
    expect(queries.filter((q) => q === 'SELECT version()')).toHaveLength(1);
    expect(queries[1]).toBe('CREATE DATABASE IF NOT EXISTS `db`');
    expect(queries[2]).toMatch(/^CREATE TABLE IF NOT EXISTS `db`.`t` .* SETTINGS non_replicated_deduplication_window = 1000$/);
    const inserts = ch.seen.filter((s) => s.params.get('query') === 'INSERT INTO `db`.`t` FORMAT JSONEachRow');
    expect(inserts).toHaveLength(3);
    for (const s of inserts) {
      expect(s.headers['content-encoding']).toBe('gzip');
      expect(s.headers['x-clickhouse-user']).toBe('u');
      expect(s.headers['x-clickhouse-key']).toBe('pw-secret-9');
      expect(s.params.get('async_insert')).toBe('0');
      expect(s.params.get('input_format_skip_unknown_fields')).toBe('1');
      expect(s.params.get('wait_end_of_query')).toBe('1');
      expect(s.params.get('insert_deduplication_token')).toMatch(/^[0-9a-f]{64}$/);
      expect(s.body.trim().split('\n')).toHaveLength(3);
    }
    const tokens = inserts.map((s) => s.params.get('insert_deduplication_token'));
    expect(new Set(tokens).size, 'the same batch twice has the same token, another batch another').toBe(2);
    expect(cap.text()).not.toContain('pw-secret-9');
    expect(cap.lines.some((l) => l.serverVersion === '23.8.2.7' && l.dedupToken === true)).toBe(true);
  });

  it('on 18.16: no token, no async_insert, no SETTINGS clause (the server would refuse unknown settings)', async () => {
    const ch = await fakeClickHouse('18.16.1');
    const sink = createClickHouseSink(`clickhouse+${ch.url}/db.t?create=true&gzip=false`, { logger: captureLogger().logger, env: {} });
    await sink.send(makeBatch({ n: 2 }));
    await sink.close();
    const insert = ch.seen.at(-1)!;
    expect(insert.params.has('insert_deduplication_token')).toBe(false);
    expect(insert.params.has('async_insert')).toBe(false);
    expect(insert.headers['content-encoding']).toBeUndefined();
    expect(insert.headers['x-clickhouse-user']).toBeUndefined();
    expect(ch.seen[2]!.body).not.toContain('SETTINGS');
  });

  it('a failed version() is asked again by the next send; nothing is acknowledged meanwhile', async () => {
    let fail = true;
    const ch = await fakeClickHouse('22.3.1', (s) => (fail && s.body.includes('version()') ? { status: 503, body: 'Code: 999, starting' } : undefined));
    const sink = createClickHouseSink(`clickhouse+${ch.url}/db.t`, { logger: captureLogger().logger, env: {} });
    const err = (await sink.send(makeBatch({ n: 1 })).catch((e: unknown) => e)) as SinkError;
    expect({ kind: err.kind, code: err.code }).toEqual({ kind: 'retryable', code: ErrorCodes.SINK_CLICKHOUSE_SERVER });
    fail = false;
    await sink.send(makeBatch({ n: 1 }));
    expect(ch.seen.filter((s) => s.body.includes('version()'))).toHaveLength(2);
    await sink.close();
  });

  it('a server that never answers: retryable network error after ?timeout=', async () => {
    const ch = await fakeClickHouse('22.3.1');
    server!.removeAllListeners('request');
    server!.on('request', () => undefined); // takes the request, never answers
    const sink = createClickHouseSink(`clickhouse+${ch.url}/db.t?timeout=300`, { logger: captureLogger().logger, env: {} });
    const err = (await sink.send(makeBatch({ n: 1 })).catch((e: unknown) => e)) as SinkError;
    expect({ kind: err.kind, code: err.code }).toEqual({ kind: 'retryable', code: ErrorCodes.SINK_CLICKHOUSE_NETWORK });
    server!.closeAllConnections();
    await sink.close();
  });
});
