import { expect, test } from 'vitest';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { loadPoolAndAgent } from '../../../src/deliver/sinks/lazy-undici.js';

// The sinks load only undici's Pool and Agent modules (lazy-undici.ts). If an undici upgrade moved them, this
// fails instead of the agent quietly falling back to the whole package (or, worse, using a copy).
test("the partly loaded Pool and Agent are undici's own classes, and both send a request", async () => {
  const part = loadPoolAndAgent();
  expect(part, 'undici/lib/dispatcher/{pool,agent}.js and lib/api/api-request.js load').toBeDefined();
  const undici = await import('undici');
  expect(part!.Pool).toBe(undici.Pool);
  expect(part!.Agent).toBe(undici.Agent);

  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end(`${req.method} ${req.url}`));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const pool = new part!.Pool(origin, { connections: 1 });
    const agent = new part!.Agent({ connections: 1 });
    const a = await pool.request({ path: '/p', method: 'POST', body: 'x' });
    const b = await agent.request({ origin, path: '/a', method: 'GET' });
    expect([await a.body.text(), await b.body.text()]).toEqual(['POST /p', 'GET /a']);
    await Promise.all([pool.close(), agent.close()]);
  } finally {
    server.close();
  }
});
