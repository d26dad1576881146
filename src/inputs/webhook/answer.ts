// The receiver's answers: small JSON bodies with a stable code; a refused body's connection is closed gently.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** After a refused body: what is discarded at most before the socket is destroyed. */
const LINGER_MS = 1000;
const LINGER_BYTES = 4 << 20;

export type Answer = (res: ServerResponse, status: number, body: object, close: boolean, headers?: Record<string, string>) => void;

/** `answer` (reported to `onAnswer`, then sent) and `busy`: the 429 of a full spool or a full memory budget. */
export function createAnswers(onAnswer: ((status: number) => void) | undefined, retryAfterSeconds: number) {
  const answer: Answer = (res, status, body, close, headers = {}) => {
    onAnswer?.(status);
    send(res, status, body, close, headers);
  };
  const busy = (res: ServerResponse, spoolFull: boolean): void =>
    answer(
      res,
      429,
      spoolFull
        ? { code: 'TAILSHIP_E_WEBHOOK_SPOOL_FULL', reason: 'the spool is full (the store is behind); the API server keeps the events and retries' }
        : { code: 'TAILSHIP_E_WEBHOOK_BUSY', reason: 'too many request bodies in memory; retry' },
      true,
      { 'retry-after': String(retryAfterSeconds) },
    );
  return { answer, busy };
}

/** Answers with a small JSON body; `close` ends the connection (the rest of a refused body is never read). */
function send(res: ServerResponse, status: number, body: object, close: boolean, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(close ? { connection: 'close' } : {}), ...headers });
  const socket = res.socket;
  res.end(text, () => {
    if (close && socket) linger(socket);
  });
}

/**
 * Closing a socket with unread request bytes makes the kernel send a reset, which can make the client lose the
 * answer it has not read yet. So: half-close, discard what still arrives for a moment (bounded in bytes and
 * time, nothing is kept), then destroy.
 */
function linger(socket: Socket): void {
  let discarded = 0;
  const done = (): void => {
    clearTimeout(timer);
    socket.destroy();
  };
  const timer = setTimeout(done, LINGER_MS);
  timer.unref();
  socket.removeAllListeners('data');
  socket.on('data', (d: Buffer) => {
    discarded += d.length;
    if (discarded > LINGER_BYTES) done();
  });
  socket.on('error', done);
  socket.end();
  socket.resume();
}
