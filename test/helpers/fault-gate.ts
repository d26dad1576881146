/**
 * A fault gate: an HTTP pass-through on 127.0.0.1 in front of a store (a fake or a real server), on a fixed port,
 * that can be taken away (`stop()`: connections refused, as a store that is down), brought back on the same port
 * (`start()`), or made to answer every request itself (`answer(status, body)`: a 400/401/413 as the store or a
 * proxy in front of it would send) — for the faults a store's own fake has no switch for. Requests it forwards
 * reach the store unchanged (method, path, headers, body), and the store's answer comes back unchanged.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GateAnswer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

export interface FaultGate {
  /** `http://127.0.0.1:PORT` of the gate (point the sink here). */
  url: string;
  /** From now on every request gets this answer (the store sees nothing); undefined: pass through again. */
  answer(a: GateAnswer | undefined): void;
  /** Close the listener and every connection: the store is down. */
  stop(): Promise<void>;
  /** Listen again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultGate(target: string): Promise<FaultGate> {
  const to = new URL(target);
  let fixed: GateAnswer | undefined;
  let server: Server | undefined;
  let port = 0;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (fixed) {
      const a = fixed;
      req.resume();
      req.on('end', () => {
        res.writeHead(a.status, { 'content-type': 'text/plain; charset=utf-8', ...a.headers });
        res.end(a.body ?? '');
      });
      return;
    }
    const up = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  };

  const listen = async (): Promise<void> => {
    const s = createServer(handle);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    port = (s.address() as AddressInfo).port;
    server = s;
  };
  const stop = async (): Promise<void> => {
    const s = server;
    server = undefined;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  };

  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    answer: (a) => void (fixed = a),
    stop,
    start: () => (server ? Promise.resolve() : listen()),
    close: stop,
  };
}
