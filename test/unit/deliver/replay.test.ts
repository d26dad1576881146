import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { Batch } from '../../../src/batch/batch.js';
import { createDeadLetterSpool, deadLetterDir } from '../../../src/deliver/dead-letter.js';
import { recordBatch, parseDeadLetterLine, type DeadLetterRecord } from '../../../src/deliver/dead-letter-record.js';
import { batchNdjson } from '../../../src/deliver/ndjson.js';
import { replayDeadLetters } from '../../../src/deliver/replay.js';
import { SinkError } from '../../../src/deliver/sink.js';
import { createFileSink } from '../../../src/deliver/sinks/file-sink.js';
import { httpBatchBody } from '../../../src/deliver/sinks/http-batch-body.js';
import { createHttpSink } from '../../../src/deliver/sinks/http-sink.js';
import { ErrorCodes } from '../../../src/errors.js';
import { silentLogger } from '../../../src/observe/log.js';
import { startFakeHttpStore, type FakeHttpStore } from '../../helpers/fake-http-store.js';
import { lineEvent, makeBatch, objectEvent, tempDir } from './support.js';

let dir: string;
let cleanup: () => Promise<void>;
let store: FakeHttpStore | undefined;
beforeEach(async () => ({ dir, cleanup } = await tempDir('tailship-replay-')));
afterEach(async () => {
  await store?.close();
  store = undefined;
  await cleanup();
});

const rejected = new SinkError('rejected', ErrorCodes.SINK_HTTP_4XX, 'the store rejected the batch with 400', { statusCode: 400, responseBody: 'bad' });

/** A spool written by the real dead-letter spool, as the agent writes it. */
async function spoolOf(batches: Batch[]): Promise<string> {
  const spool = createDeadLetterSpool(dir, { logger: silentLogger() });
  for (const b of batches) await spool.write(b, rejected, 'http');
  await spool.close();
  return join(deadLetterDir(dir), 'audit-store.ndjson');
}

const spoolLines = async (path: string): Promise<string[]> => (await readFile(path, 'utf8').catch(() => '')).split('\n').filter(Boolean);
const mixed = (id: string, first: number): Batch =>
  makeBatch({
    id,
    events: [
      objectEvent({ kind: 'Event', auditID: `${id}-a`, seq: first }, 1_700_000_001),
      lineEvent(`not json ${id}`, 1_700_000_002, { __parse_error__: 'not a JSON object' }),
      objectEvent({ kind: 'Event', auditID: `${id}-c`, seq: first + 2 }, 1_700_000_003, { __truncated__: 'true' }),
    ],
  });

describe('dead-letter record round trip', () => {
  test('a record becomes the same batch again: every sink renders it as it rendered the original', async () => {
    const original = mixed('b1', 0);
    const [line] = await spoolLines(await spoolOf([original]));
    const rec = parseDeadLetterLine(line!) as DeadLetterRecord;
    expect(rec.code).toBe(ErrorCodes.SINK_HTTP_4XX);
    const again = recordBatch(rec);
    expect(batchNdjson(again)).toBe(batchNdjson(original));
    expect(JSON.parse(httpBatchBody(again))).toEqual(JSON.parse(httpBatchBody(original)));
    // rawBytes is of the logs as re-sent (a line comes back as {"content": line}): it only sizes requests.
    expect({ ...again, events: [], rawBytes: 0 }).toEqual({ ...original, events: [], rawBytes: 0 });
  });

  test('lines that are not records are reported', () => {
    expect(parseDeadLetterLine('{oops')).toHaveProperty('error');
    expect(parseDeadLetterLine('{"batch":{}}')).toHaveProperty('error');
  });
});

describe('replayDeadLetters', () => {
  test('acknowledged entries leave the spool; an entry refused again stays with the new answer; junk stays', async () => {
    const path = await spoolOf([mixed('b1', 0), mixed('b2', 10), mixed('b3', 20)]);
    await writeFile(path, `${await readFile(path, 'utf8')}not a record\n`);
    store = await startFakeHttpStore();
    store.setFault(({ key }) => (key === 'b2' ? { status: 422, body: 'still bad' } : 'ok'));
    const sink = createHttpSink(new URL(store.url), { logger: silentLogger(), env: {} });
    const s = await replayDeadLetters({ stateDir: dir, sink, now: () => Date.parse('2026-12-01T00:00:00Z') });
    await sink.close();

    expect(s).toMatchObject({ files: 1, entries: 4, replayed: 2, logsReplayed: 6, kept: 2, rejectedAgain: 1, unreadable: 1, notSent: 0 });
    expect(s.report.map((r) => [r.batch, r.outcome, r.code])).toEqual([
      ['b1', 'replayed', undefined],
      ['b2', 'rejected-again', ErrorCodes.SINK_HTTP_4XX],
      ['b3', 'replayed', undefined],
      [undefined, 'unreadable', ErrorCodes.REPLAY_BAD_RECORD],
    ]);
    expect(store.received.map((r) => r.key)).toEqual(['b1', 'b3']);
    expect(store.received[0]!.body).toEqual(JSON.parse(httpBatchBody(mixed('b1', 0))));

    const left = await spoolLines(path);
    expect(left).toHaveLength(2);
    const kept = JSON.parse(left.find((l) => l.startsWith('{'))!) as DeadLetterRecord;
    expect(kept.batch.id).toBe('b2');
    expect(kept.logs).toHaveLength(3);
    expect(kept.lastReplay).toMatchObject({ time: '2026-12-01T00:00:00.000Z', kind: 'rejected', code: ErrorCodes.SINK_HTTP_4XX, statusCode: 422 });
    expect(left).toContain('not a record');
    expect(await readdir(deadLetterDir(dir))).toEqual(['audit-store.ndjson']);
  });

  test('too large: sent in halves; the single log the store still refuses stays, alone', async () => {
    const events = Array.from({ length: 5 }, (_, i) => objectEvent({ auditID: `e${i}`, pad: i === 3 ? 'x'.repeat(2000) : '' }));
    const path = await spoolOf([makeBatch({ id: 'big', events })]);
    store = await startFakeHttpStore();
    store.setFault(({ body }) => ((body?.logs.length ?? 0) > 1 || JSON.stringify(body).length > 1500 ? { status: 413 } : 'ok'));
    const sink = createHttpSink(new URL(`${store.url}?gzip=false`), { logger: silentLogger(), env: {} });
    const s = await replayDeadLetters({ stateDir: dir, sink });
    await sink.close();
    expect(s).toMatchObject({ entries: 1, replayed: 0, logsReplayed: 4, rejectedAgain: 1, kept: 1 });
    expect(store.logs().map((l) => l.auditID).sort()).toEqual(['e0', 'e1', 'e2', 'e4']);
    const left = (await spoolLines(path)).map((l) => JSON.parse(l) as DeadLetterRecord);
    expect(left.map((r) => r.logs.map((l) => l.auditID))).toEqual([['e3']]);
    expect(left[0]!.lastReplay?.code).toBe(ErrorCodes.SINK_TOO_LARGE);
  });

  test('a store that takes no writes stops the replay and leaves every entry as it was', async () => {
    const path = await spoolOf([mixed('b1', 0), mixed('b2', 10)]);
    const before = await readFile(path, 'utf8');
    store = await startFakeHttpStore();
    await store.stop();
    const sink = createHttpSink(new URL(store.url), { logger: silentLogger(), env: {} });
    const s = await replayDeadLetters({ stateDir: dir, sink });
    await sink.close();
    expect(s).toMatchObject({ entries: 2, replayed: 0, kept: 2, notSent: 2, stopped: { kind: 'retryable', code: ErrorCodes.SINK_NETWORK } });
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  test('--dry-run sends nothing and changes nothing', async () => {
    const path = await spoolOf([mixed('b1', 0)]);
    const before = await readFile(path, 'utf8');
    const out = join(dir, 'out');
    const sink = createFileSink(out, { logger: silentLogger() });
    const s = await replayDeadLetters({ stateDir: dir, sink, dryRun: true });
    await sink.close();
    expect(s.report.map((r) => [r.batch, r.outcome, r.logs, r.code])).toEqual([['b1', 'would-replay', 3, ErrorCodes.SINK_HTTP_4XX]]);
    expect(await readFile(path, 'utf8')).toBe(before);
    await expect(readdir(out)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('finishes the claimed file of an interrupted replay first; the agent’s new dead letters are not touched by it', async () => {
    const path = await spoolOf([mixed('b1', 0)]);
    await writeFile(`${path}.replay`, await readFile(path, 'utf8'));
    await writeFile(path, '');
    const spool = createDeadLetterSpool(dir, { logger: silentLogger() });
    await spool.write(mixed('b2', 10), rejected, 'http');
    await spool.close();
    const out = join(dir, 'out');
    const sink = createFileSink(out, { logger: silentLogger() });
    const s = await replayDeadLetters({ stateDir: dir, sink });
    await sink.close();
    expect(s).toMatchObject({ files: 2, entries: 2, replayed: 2, kept: 0 });
    expect(await readFile(join(out, 'audit-store.ndjson'), 'utf8')).toBe(batchNdjson(mixed('b1', 0)) + batchNdjson(mixed('b2', 10)));
    expect(await readdir(deadLetterDir(dir))).toEqual([]);
  });
});

describe('tailship replay (the CLI)', () => {
  const cli = fileURLToPath(new URL('../../../dist/cli.js', import.meta.url));
  const run = (args: string[]) =>
    promisify(execFile)(process.execPath, [cli, 'replay', '--state-dir', dir, '--log-level', 'silent', ...args]).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    );

  test('exit 0 when the spool is empty or fully replayed, 1 when entries stay, 2 for an unusable sink', async () => {
    expect((await run(['--sink', `file:${join(dir, 'out')}`])).code).toBe(0);
    const path = await spoolOf([mixed('b1', 0)]);
    store = await startFakeHttpStore();
    store.setFault(() => ({ status: 400 }));
    const refused = await run(['--sink', store.url, '--json']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ entries: 1, rejectedAgain: 1, kept: 1 });
    expect((await run(['--sink', 'file:'])).code).toBe(2);
    expect((await run(['--sink', 'http://127.0.0.1:1/x?gzip=often'])).code).toBe(2);
    store.setFault(undefined);
    expect((await run(['--sink', store.url, '--dry-run'])).code).toBe(0);
    expect(store.received).toHaveLength(0);
    expect((await run(['--sink', store.url])).code).toBe(0);
    expect(store.received.map((r) => r.key)).toEqual(['b1']);
    expect(await spoolLines(path)).toEqual([]);
  });
});
