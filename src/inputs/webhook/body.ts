// A request body read with bounds: over the limit the request is answered 413 without reading the rest, and a
// gzip body is bounded after decompression too (a small body that inflates to gigabytes is refused the same way).
import type { IncomingMessage } from 'node:http';
import { createGunzip, type Gunzip } from 'node:zlib';

export type BodyResult = { body: Buffer } | { status: number; code: string; reason: string };

/** `reserve(n)`: may `n` more bytes of a body without Content-Length be held? (false: 429, the memory budget is used up) */
export function readBody(req: IncomingMessage, maxBytes: number, reserve: (n: number) => boolean = () => true): Promise<BodyResult> {
  const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  if (encoding !== 'identity' && encoding !== 'gzip' && encoding !== '') {
    return Promise.resolve({ status: 415, code: 'TAILSHIP_E_WEBHOOK_ENCODING', reason: `Content-Encoding ${encoding} is not supported (identity or gzip)` });
  }
  const declared = Number(req.headers['content-length']);
  const tooLarge = (what: string): BodyResult => ({
    status: 413,
    code: 'TAILSHIP_E_WEBHOOK_TOO_LARGE',
    reason: `the body ${what} is over ${maxBytes} bytes; lower --audit-webhook-batch-max-size or turn on --audit-webhook-truncate-enabled on the API server`,
  });
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve(tooLarge('(Content-Length)'));

  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let raw = 0;
    let out = 0;
    let settled = false;
    let gunzip: Gunzip | undefined;
    const finish = (r: BodyResult): void => {
      if (settled) return;
      settled = true;
      req.off('data', onRaw);
      gunzip?.removeAllListeners('data');
      gunzip?.destroy();
      if (!('body' in r)) req.pause(); // the rest is never read: the socket is destroyed after the answer
      resolve(r);
    };
    const onOut = (chunk: Buffer): void => {
      out += chunk.length;
      if (out > maxBytes) return finish(tooLarge(encoding === 'gzip' ? 'decompressed' : ''));
      parts.push(chunk);
    };
    const onRaw = (chunk: Buffer): void => {
      raw += chunk.length;
      if (raw > maxBytes) return finish(tooLarge(''));
      if (!Number.isFinite(declared) && !reserve(chunk.length)) {
        return finish({ status: 429, code: 'TAILSHIP_E_WEBHOOK_BUSY', reason: 'too many request bodies in memory; retry' });
      }
      if (gunzip) gunzip.write(chunk);
      else onOut(chunk);
    };
    if (encoding === 'gzip') {
      gunzip = createGunzip();
      gunzip.on('data', onOut);
      gunzip.on('error', (e) => finish({ status: 400, code: 'TAILSHIP_E_WEBHOOK_NOT_JSON', reason: `the gzip body is corrupt: ${e.message}` }));
      gunzip.on('end', () => finish({ body: Buffer.concat(parts, out) }));
    }
    req.on('data', onRaw);
    req.on('end', () => {
      if (gunzip) gunzip.end();
      else finish({ body: Buffer.concat(parts, out) });
    });
    req.on('error', () => finish({ status: 400, code: 'TAILSHIP_E_WEBHOOK_ABORTED', reason: 'the request was aborted' }));
    req.on('close', () => {
      if (!req.complete) finish({ status: 400, code: 'TAILSHIP_E_WEBHOOK_ABORTED', reason: 'the request was aborted before its end' });
    });
  });
}
