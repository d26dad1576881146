import { spawn } from 'node:child_process';
import { ErrorCodes } from '../../../src/errors.js';
import { Writable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { SinkError } from '../../../src/deliver/sink.js';
import { batchNdjson } from '../../../src/deliver/ndjson.js';
import { createStdoutSink } from '../../../src/deliver/sinks/stdout-sink.js';
import { silentLogger } from '../../../src/observe/log.js';
import { captureLogger, deferred, makeBatch } from './support.js';

const ctx = { logger: silentLogger() };

/** A stream whose writes complete only when the test says so; small buffer, so backpressure shows quickly. */
function heldStream() {
  const chunks: string[] = [];
  const pending: Array<() => void> = [];
  const stream = new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      pending.push(() => cb());
    },
  });
  return { stream, chunks, releaseOne: () => pending.shift()?.(), pending: () => pending.length };
}

describe('stdout sink', () => {
  test('writes the same NDJSON lines as the file sink, whole batches in order', async () => {
    const chunks: string[] = [];
    const stream = new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c.toString()), cb()) });
    const sink = createStdoutSink(ctx, { stream });
    const batches = Array.from({ length: 5 }, (_, i) => makeBatch({ n: 3, first: i * 3 }));
    await Promise.all(batches.map((b) => sink.send(b)));
    await sink.close();
    expect(chunks).toEqual(batches.map(batchNdjson));
    expect(chunks.join('').trimEnd().split('\n').map((l) => JSON.parse(l).seq)).toEqual(Array.from({ length: 15 }, (_, i) => i));
  });

  test('acknowledges only after the write callback, and one batch at a time (backpressure)', async () => {
    const h = heldStream();
    const sink = createStdoutSink(ctx, { stream: h.stream });
    const acked: number[] = [];
    const sends = [0, 1, 2].map((i) => sink.send(makeBatch({ n: 2, first: i * 2 })).then(() => acked.push(i)));
    await new Promise((r) => setImmediate(r));
    // The first batch is with the stream; the others wait instead of piling up in its buffer.
    expect(h.chunks).toHaveLength(1);
    expect(acked).toEqual([]);
    h.releaseOne();
    await sends[0];
    expect(acked).toEqual([0]);
    await new Promise((r) => setImmediate(r));
    expect(h.chunks).toHaveLength(2);
    h.releaseOne();
    await sends[1];
    await new Promise((r) => setImmediate(r));
    h.releaseOne();
    await Promise.all(sends);
    expect(acked).toEqual([0, 1, 2]);
  });

  test('a closed pipe (EPIPE) is a blocked SinkError, not logged by the sink (item 14: the deliverer logs it once), and never crashes the process', async () => {
    const { logger, lines } = captureLogger();
    const stream = new Writable({
      write(_c, _e, cb) {
        const err = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
        cb(err);
      },
    });
    const sink = createStdoutSink({ logger }, { stream });
    const e1 = (await sink.send(makeBatch()).catch((e: unknown) => e)) as SinkError;
    expect(e1).toBeInstanceOf(SinkError);
    expect(e1.kind).toBe('blocked');
    expect(e1.code).toBe(ErrorCodes.SINK_STDOUT_BROKEN);
    expect(e1.storeCode).toBe('EPIPE');
    const e2 = (await sink.send(makeBatch()).catch((e: unknown) => e)) as SinkError;
    expect(e2.kind).toBe('blocked');
    expect(lines.filter((l) => (l.level as number) >= 40)).toHaveLength(0);
  });

  test('real process.stdout of a child: every log arrives on stdout, nothing else does', async () => {
    // A child writes 200 batches through the sink into a pipe that we read slowly.
    // dist/ is built by the global setup (tsc) before the tests run.
    const script = `
      const { createStdoutSink } = await import(${JSON.stringify(new URL('../../../dist/deliver/sinks/stdout-sink.js', import.meta.url).href)});
      const pino = (await import('pino')).default;
      const sink = createStdoutSink({ logger: pino({ level: 'silent' }) });
      const ev = (seq) => ({ raw: JSON.stringify({ seq, pad: 'x'.repeat(200) }), isObject: true, time: 1700000000, timeNs: 0 });
      for (let i = 0; i < 200; i++) {
        const events = Array.from({ length: 50 }, (_, j) => ev(i * 50 + j));
        await sink.send({ id: 'b' + i, logstore: 'ls', source: 'n', tags: { a: 'b' }, events });
      }
      await sink.close();
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: new URL('../../..', import.meta.url).pathname,
    });
    const done = deferred<number | null>();
    child.on('close', (code) => done.resolve(code));
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    for await (const chunk of child.stdout) {
      out += chunk;
      await new Promise((r) => setTimeout(r, 1)); // a slow reader
    }
    expect(await done.promise, err).toBe(0);
    const seqs = out.trimEnd().split('\n').map((l) => JSON.parse(l).seq);
    expect(seqs).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
  });
});
