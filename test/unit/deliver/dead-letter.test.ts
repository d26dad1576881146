import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createDeadLetterSpool, deadLetterDir } from '../../../src/deliver/dead-letter.js';
import { SinkError } from '../../../src/deliver/sink.js';
import { ErrorCodes } from '../../../src/errors.js';
import { batchNdjson } from '../../../src/deliver/ndjson.js';
import { createMetrics } from '../../../src/observe/metrics.js';
import { silentLogger } from '../../../src/observe/log.js';
import { lineEvent, makeBatch, objectEvent, tempDir } from './support.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const counterValue = async (m: ReturnType<typeof createMetrics>) => (await m.batchesDeadLettered.get()).values[0]?.value ?? 0;

describe('dead-letter spool', () => {
  test('one record per batch with the reason, the answer and the whole batch, rendered', async () => {
    const metrics = createMetrics();
    const spool = createDeadLetterSpool(dir, { logger: silentLogger(), metrics, now: () => Date.parse('2026-01-02T03:04:05.000Z') });
    const batch = makeBatch({
      events: [objectEvent({ kind: 'Event', auditID: 'x' }, 1_700_000_001), lineEvent('not json', 1_700_000_002, { __parse_error__: 'bad' })],
    });
    const err = new SinkError('rejected', ErrorCodes.SINK_HTTP_4XX, 'POST http://store/ingest (batch b): the store rejected the batch with 400: bad field', {
      statusCode: 400,
      storeCode: 'BadField',
      responseBody: '{"error":"bad field"}',
    });
    await spool.write(batch, err, 'http');
    await spool.write(makeBatch({ n: 2, first: 10 }), err, 'http');
    await spool.close();

    const path = join(deadLetterDir(dir), 'audit-store.ndjson');
    expect(path).toBe(join(dir, 'dead-letter', 'audit-store.ndjson'));
    const records = (await readFile(path, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(2);
    expect(records[0]).toEqual({
      time: '2026-01-02T03:04:05.000Z',
      sink: 'http',
      reason: err.message,
      kind: 'rejected',
      statusCode: 400,
      code: 'TAILSHIP_E_SINK_HTTP_4XX',
      storeCode: 'BadField',
      responseBody: '{"error":"bad field"}',
      batch: {
        id: batch.id,
        inputKey: 'audit',
        logstore: 'audit-store',
        project: 'k8s-log-c1',
        product: 'k8s-audit',
        source: 'node-1',
        range: batch.range,
        tags: batch.tags,
        events: 2,
        shard: 2,
        ttl: 90,
        logstoreMode: 'standard',
      },
      logs: batchNdjson(batch).trimEnd().split('\n').map((l) => JSON.parse(l)),
    });
    expect(records[0].logs[1]).toMatchObject({ content: 'not json', __tag__: { __parse_error__: 'bad' } });
    expect(records[1].logs.map((l: { seq: number }) => l.seq)).toEqual([10, 11]);
    expect(await counterValue(metrics)).toBe(2);
    // Private: rejected audit events may hold secrets.
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  test('a spool it cannot write is a retryable SinkError, and nothing is counted', async () => {
    const metrics = createMetrics();
    await mkdir(join(dir, 'dead-letter'));
    await symlink('/dev/full', join(dir, 'dead-letter', 'audit-store.ndjson'));
    const spool = createDeadLetterSpool(dir, { logger: silentLogger(), metrics });
    const err = (await spool.write(makeBatch(), new SinkError('rejected', ErrorCodes.SINK_HTTP_4XX, 'x', { statusCode: 400 })).catch((e: unknown) => e)) as SinkError;
    expect(err).toBeInstanceOf(SinkError);
    expect(err.kind).toBe('retryable');
    expect(err.code).toBe(ErrorCodes.DEAD_LETTER_WRITE);
    expect(err.storeCode).toBe('ENOSPC');
    expect(await counterValue(metrics)).toBe(0);
    await spool.close();
  });

  test('a state dir that is a file is reported with its path', async () => {
    await writeFile(join(dir, 'state'), '');
    const spool = createDeadLetterSpool(join(dir, 'state'), { logger: silentLogger() });
    const err = (await spool.write(makeBatch(), new SinkError('rejected', ErrorCodes.SINK_HTTP_4XX, 'x')).catch((e: unknown) => e)) as SinkError;
    expect(err.code).toBe(ErrorCodes.DEAD_LETTER_WRITE);
    expect(err.storeCode).toBe('ENOTDIR');
  });
});
