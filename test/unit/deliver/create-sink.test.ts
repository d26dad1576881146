import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createSink, type CreateSinkContext } from '../../../src/deliver/create-sink.js';
import { createMetrics } from '../../../src/observe/metrics.js';
import { silentLogger } from '../../../src/observe/log.js';
import { startFakeHttpStore } from '../../helpers/fake-http-store.js';
import { makeBatch, tempDir, thrownCode } from './support.js';
import { ErrorCodes } from '../../../src/errors.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const ctx = (over: Partial<CreateSinkContext> = {}): CreateSinkContext => ({
  logger: silentLogger(),
  metrics: createMetrics(),
  env: {},
  stateDir: join(dir, 'state'),
  cwd: dir,
  ...over,
});

describe('createSink', () => {
  test('file:DIR is relative to the working directory', async () => {
    const sink = createSink('file:./out/logs', ctx());
    expect(sink.name).toBe('file');
    await sink.send(makeBatch({ n: 2 }));
    await sink.close();
    expect((await readFile(join(dir, 'out', 'logs', 'audit-store.ndjson'), 'utf8')).split('\n')).toHaveLength(3);
  });

  test('file:/absolute and file:///absolute', async () => {
    for (const uri of [`file:${join(dir, 'a')}`, pathToFileURL(join(dir, 'b')).href]) {
      const sink = createSink(uri, ctx({ cwd: '/nonexistent' }));
      await sink.send(makeBatch({ n: 1 }));
      await sink.close();
    }
    expect(await readFile(join(dir, 'a', 'audit-store.ndjson'), 'utf8')).toContain('"seq":0');
    expect(await readFile(join(dir, 'b', 'audit-store.ndjson'), 'utf8')).toContain('"seq":0');
  });

  test('stdout: and http(s)://', async () => {
    const out = createSink('stdout:', ctx());
    expect(out.name).toBe('stdout');
    await out.close();
    const store = await startFakeHttpStore();
    const sink = createSink(store.url, ctx({ env: { TAILSHIP_HTTP_AUTHORIZATION: 'Bearer x' } }));
    expect(sink.name).toBe('http');
    await sink.send(makeBatch({ n: 2 }));
    await sink.close();
    await store.close();
    expect(store.logs()).toHaveLength(2);
    expect(store.requests[0].headers.authorization).toBe('Bearer x');
    const https = createSink('https://store.example/ingest', ctx());
    expect(https.name).toBe('http');
    await https.close();
  });

  test('sls:// goes to the SLS sink', async () => {
    const sink = createSink('sls+http://127.0.0.1:1?project=p', ctx({ env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'id', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'secret' } }));
    expect(sink.name).toBe('sls');
    await sink.close();
  });

  test.each(['', 'file:', 'ftp://x/y', 'kafka://broker:9092', '/var/log/out', 'http//missing-colon', 'https://'])(
    '%j is refused with the accepted forms',
    (uri) => {
      expect(thrownCode(() => createSink(uri, ctx()))).toBe(ErrorCodes.CONFIG_SINK_URI);
    },
  );

  test('a refused URI is printed without its password or query values', () => {
    let message = '';
    try {
      createSink('ftp://user:hunter2@host/x?token=abc123', ctx());
    } catch (err) {
      message = (err as Error).message;
      expect((err as { code?: string }).code).toBe(ErrorCodes.CONFIG_SINK_URI);
    }
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('abc123');
  });

  test('bad http parameters are refused with what to fix', () => {
    expect(thrownCode(() => createSink('http://127.0.0.1:1/x?gzip=often', ctx()))).toBe(ErrorCodes.CONFIG_SINK_OPTION);
  });
});
