// Item 15 of issue 10: `[::]:2020` and `:2020` listen dual-stack (IPv6-only clusters probe over IPv6, others over
// IPv4), falling back to 0.0.0.0 where the node has no IPv6.
import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../../src/config/options.js';
import { silentLogger } from '../../../src/observe/log.js';
import { createMetrics } from '../../../src/observe/metrics.js';
import { listenDualStack, startServer, type ObserveServer } from '../../../src/observe/server.js';

const servers: ObserveServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function status(url: string): Promise<number | string> {
  try {
    return (await fetch(url)).status;
  } catch (e) {
    return String((e as Error).cause ?? e);
  }
}

describe('item 15: dual-stack listen', () => {
  it('item 15: --listen accepts [::]:2020 and :2020 (the CLI default stays 127.0.0.1:2020)', () => {
    expect(parseCommandLine(['--listen', '[::]:2020'], {}).options.listen).toBe('[::]:2020');
    expect(parseCommandLine(['--listen', ':2020'], {}).options.listen).toBe(':2020');
    expect(parseCommandLine([], {}).options.listen).toBe('127.0.0.1:2020');
  });

  for (const listen of ['[::]:0', ':0']) {
    it(`item 15: ${listen} answers on 127.0.0.1 and on ::1`, async () => {
      const server = await startServer({ listen, metrics: createMetrics(), isReady: () => true, logger: silentLogger() });
      servers.push(server);
      expect(await status(`http://127.0.0.1:${server.port}/healthz`)).toBe(200);
      expect(await status(`http://[::1]:${server.port}/healthz`)).toBe(200);
    });
  }

  it('item 15: where IPv6 is not available, [::] falls back to 0.0.0.0', async () => {
    const calls: string[] = [];
    const fake = Object.assign(new EventEmitter(), {
      listen(opts: { host: string }, cb: () => void) {
        calls.push(opts.host);
        if (opts.host === '::') setImmediate(() => fake.emit('error', Object.assign(new Error('no v6'), { code: 'EAFNOSUPPORT' })));
        else setImmediate(cb);
        return fake;
      },
    });
    expect(await listenDualStack(fake as unknown as Server, 0, '::')).toBe('0.0.0.0');
    expect(calls).toEqual(['::', '0.0.0.0']);
  });

  it('item 15: other listen errors are not hidden by the fallback', async () => {
    const fake = Object.assign(new EventEmitter(), {
      listen(_opts: unknown, _cb: () => void) {
        setImmediate(() => fake.emit('error', Object.assign(new Error('taken'), { code: 'EADDRINUSE' })));
        return fake;
      },
    });
    await expect(listenDualStack(fake as unknown as Server, 0, '::')).rejects.toThrow(/taken/);
  });
});
