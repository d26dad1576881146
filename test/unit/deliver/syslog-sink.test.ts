// The syslog sink's connection behaviour against a plain TCP receiver on 127.0.0.1 that the test controls:
// acknowledgement after the last write, backpressure, reconnects, a connection lost mid-batch, timeouts, close.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSyslogSink } from '../../../src/deliver/sinks/syslog/syslog-sink.js';
import { SinkError } from '../../../src/deliver/sink.js';
import { ErrorCodes } from '../../../src/errors.js';
import { parse5424, splitFrames } from '../../helpers/rfc5424.js';
import { captureLogger, makeBatch, objectEvent } from './support.js';

interface Receiver {
  port: number;
  conns: net.Socket[];
  /** Bytes received per connection. */
  bytes: Buffer[][];
  messages(): string[];
  close(): Promise<void>;
}

let receivers: Receiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  receivers = [];
});

async function receiver(onConn?: (s: net.Socket, index: number) => void): Promise<Receiver> {
  const conns: net.Socket[] = [];
  const bytes: Buffer[][] = [];
  const srv = net.createServer((s) => {
    const i = conns.length;
    conns.push(s);
    bytes.push([]);
    s.on('data', (c: Buffer) => bytes[i]!.push(c));
    s.on('error', () => undefined);
    onConn?.(s, i);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const r: Receiver = {
    port: (srv.address() as net.AddressInfo).port,
    conns,
    bytes,
    messages: () => bytes.flatMap((b) => splitFrames(Buffer.concat(b)).messages),
    close: () =>
      new Promise<void>((res) => {
        for (const c of conns) c.destroy();
        srv.close(() => res());
      }),
  };
  receivers.push(r);
  return r;
}

const sinkFor = (port: number, q = '') => createSyslogSink(`syslog+tcp://127.0.0.1:${port}${q}`, { logger: captureLogger().logger });

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function bigBatch(events: number, bytes: number, first = 0) {
  return makeBatch({ first, events: Array.from({ length: events }, (_, i) => objectEvent({ auditID: `b-${first + i}`, stage: 'ResponseComplete', pad: 'x'.repeat(bytes) })) });
}

describe('syslog sink connection', () => {
  it('acknowledges after the last message was written; concurrent sends take turns (no interleaving)', async () => {
    const r = await receiver();
    const sink = sinkFor(r.port);
    const batches = [0, 1, 2, 3].map((b) => makeBatch({ n: 50, first: b * 1000 }));
    await Promise.all(batches.map((b) => sink.send(b)));
    await until(() => r.messages().length === 200, '200 messages');
    const ids = r.messages().map((m) => (JSON.parse(parse5424(m).msg) as { seq: number }).seq);
    const runs = ids.map((s) => Math.floor(s / 1000)).filter((b, i, a) => i === 0 || a[i - 1] !== b);
    expect(runs, 'each batch is one contiguous run of messages').toHaveLength(4);
    expect(r.conns).toHaveLength(1); // one persistent connection
    await sink.close();
    await sink.close();
  });

  it('backpressure: while the receiver does not read, send stays pending; it resolves once the receiver drained it', async () => {
    const r = await receiver((s) => s.pause());
    const sink = sinkFor(r.port);
    const batch = bigBatch(300, 100_000); // 30 MB: far more than the kernel buffers hold
    let done = false;
    const sending = sink.send(batch).then(() => (done = true));
    await until(() => r.conns.length === 1, 'the connection');
    await new Promise((res) => setTimeout(res, 500));
    expect(done, 'not acknowledged while the receiver holds it').toBe(false);
    r.conns[0]!.resume();
    await sending;
    await until(() => r.messages().length === 300, 'all 300 messages');
    expect(r.messages().map((m) => JSON.parse(parse5424(m).msg).auditID)).toEqual(batch.events.map((_, i) => `b-${i}`));
    await sink.close();
  });

  it('a receiver that never reads: retryable after ?timeout= (no progress), and the next send uses a new connection', async () => {
    const r = await receiver((s, i) => {
      if (i === 0) s.pause();
    });
    const sink = sinkFor(r.port, '?timeout=400');
    const err = (await sink.send(bigBatch(300, 100_000)).catch((e: unknown) => e)) as SinkError;
    expect(err).toBeInstanceOf(SinkError);
    expect({ kind: err.kind, code: err.code }).toEqual({ kind: 'retryable', code: ErrorCodes.SINK_SYSLOG_WRITE });
    await sink.send(makeBatch({ n: 3 }));
    await until(() => r.conns.length === 2 && splitFrames(Buffer.concat(r.bytes[1]!)).messages.length === 3, 'the batch on connection 2');
    await sink.close();
  });

  it('a connection cut mid-batch fails the whole batch as retryable; the retry arrives whole on a new connection', async () => {
    let cut = false;
    const r = await receiver((s, i) => {
      if (i !== 0) return;
      let n = 0;
      s.on('data', (c: Buffer) => {
        n += c.length;
        if (n > 1_000_000 && !cut) {
          cut = true;
          s.resetAndDestroy();
        }
      });
    });
    const sink = sinkFor(r.port);
    const batch = bigBatch(200, 50_000);
    const err = (await sink.send(batch).catch((e: unknown) => e)) as SinkError;
    expect(err).toBeInstanceOf(SinkError);
    expect({ kind: err.kind, code: err.code }).toEqual({ kind: 'retryable', code: ErrorCodes.SINK_SYSLOG_WRITE });
    await sink.send(batch);
    await until(() => r.conns.length === 2 && splitFrames(Buffer.concat(r.bytes[1]!)).messages.length === 200, 'the retried batch');
    const second = splitFrames(Buffer.concat(r.bytes[1]!));
    expect(second.rest.length).toBe(0);
    await sink.close();
  });

  it('a receiver that closed the idle connection: the next send reconnects (at most one retryable failure)', async () => {
    const r = await receiver();
    const sink = sinkFor(r.port);
    await sink.send(makeBatch({ n: 2, first: 0 }));
    await until(() => r.messages().length === 2, 'first batch');
    r.conns[0]!.end(); // FIN from the receiver
    await new Promise((res) => setTimeout(res, 50));
    const b = makeBatch({ n: 2, first: 10 });
    const first = await sink.send(b).then(() => 'ok', (e: unknown) => e);
    if (first !== 'ok') {
      expect((first as SinkError).kind).toBe('retryable');
      await sink.send(b);
    }
    await until(() => r.conns.length === 2 && splitFrames(Buffer.concat(r.bytes[1]!)).messages.length === 2, 'the batch on a new connection');
    await sink.close();
  });

  it('nobody listening: retryable connect error; send after close: closed; an aborted send rejects with the reason', async () => {
    const r = await receiver();
    const port = r.port;
    await r.close();
    receivers = [];
    const sink = sinkFor(port);
    const err = (await sink.send(makeBatch({ n: 1 })).catch((e: unknown) => e)) as SinkError;
    expect({ kind: err.kind, code: err.code }).toEqual({ kind: 'retryable', code: ErrorCodes.SINK_SYSLOG_CONNECT });
    const ac = new AbortController();
    ac.abort(new Error('stop now'));
    await expect(sink.send(makeBatch({ n: 1 }), ac.signal)).rejects.toThrow('stop now');
    await sink.close();
    const closed = (await sink.send(makeBatch({ n: 1 })).catch((e: unknown) => e)) as SinkError;
    expect(closed.code).toBe(ErrorCodes.SINK_CLOSED);
  });

  it('close flushes what was acknowledged before it', async () => {
    const r = await receiver();
    const sink = sinkFor(r.port);
    await sink.send(makeBatch({ n: 500 }));
    await sink.close();
    await until(() => r.messages().length === 500, '500 messages after close');
  });
});
