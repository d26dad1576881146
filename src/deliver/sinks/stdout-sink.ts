import type { Batch } from '../../batch/batch.js';
import type { Logger } from '../../observe/log.js';
import type { Metrics } from '../../observe/metrics.js';
import { ErrorCodes } from '../../errors.js';
import { batchNdjson } from '../ndjson.js';
import { closedError, SinkError, type Sink } from '../sink.js';

/**
 * `stdout:` (SPEC §3): NDJSON logs on stdout. A batch is acknowledged once the stream's write callback ran and
 * the stream's buffer drained below its high-water mark, so a slow reader of our stdout (a pipe into another
 * program) slows delivery down instead of growing our memory. Batches are written one after another, whole.
 */
export function createStdoutSink(
  ctx: { logger: Logger; metrics?: Metrics },
  opts: { stream?: NodeJS.WritableStream } = {},
): Sink {
  const out = opts.stream ?? process.stdout;
  let tail: Promise<void> = Promise.resolve();
  let closed = false;
  let broken: Error | undefined;
  // EPIPE and friends arrive as 'error' events; without a listener they would crash the process.
  // Logged at debug only: the failed send is reported once by the deliverer, with this error's message.
  const onError = (err: Error) => {
    if (!broken) ctx.logger.debug({ err: err.message }, 'stdout sink: stdout is broken; batches are kept and retried');
    broken = err;
  };
  out.on('error', onError);

  function write(chunk: string, signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    if (broken) return Promise.reject(stdoutError(broken));
    return new Promise<void>((resolve, reject) => {
      let written = false;
      let drained = false;
      const settle = () => {
        if (written && drained) resolve();
      };
      const ok = out.write(chunk, (err?: Error | null) => {
        if (err) return reject(stdoutError(err));
        written = true;
        settle();
      });
      if (ok) drained = true;
      else out.once('drain', () => {
        drained = true;
        settle();
      });
    });
  }

  return {
    name: 'stdout',
    send(batch: Batch, signal?: AbortSignal): Promise<void> {
      if (closed) return Promise.reject(closedError('stdout'));
      const chunk = batchNdjson(batch);
      const done = tail.then(() => write(chunk, signal));
      tail = done.catch(() => undefined);
      return done;
    },
    async close(): Promise<void> {
      closed = true;
      await tail;
      out.off('error', onError);
    },
  };
}

function stdoutError(err: Error): SinkError {
  const code = (err as NodeJS.ErrnoException).code;
  // A closed pipe does not heal by retrying quickly: hold the batches and let an operator look.
  const broken = code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
  return new SinkError(
    broken ? 'blocked' : 'retryable',
    broken ? ErrorCodes.SINK_STDOUT_BROKEN : ErrorCodes.SINK_IO,
    `cannot write to stdout: ${code ?? err.message} (is the reader of tailship's stdout still running?)`,
    { ...(code ? { storeCode: code } : {}), cause: err },
  );
}
