// The ClickHouse and syslog URIs through the CLI's --sink validation and createSink.
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../../src/config/options.js';
import { createSink } from '../../../src/deliver/create-sink.js';
import { ErrorCodes, TailshipError } from '../../../src/errors.js';
import { createMetrics } from '../../../src/observe/metrics.js';
import { captureLogger } from './support.js';

const ctx = () => ({ logger: captureLogger().logger, metrics: createMetrics(), env: {}, stateDir: '/nonexistent' });

describe('--sink clickhouse+… / syslog+…', () => {
  it.each(['clickhouse+http://127.0.0.1:8123/db.t?create=true', 'clickhouse+https://ch:8443/db.t', 'syslog+tcp://127.0.0.1:514', 'syslog+tls://logs:6514'])(
    '%s is a sink URI for the CLI',
    (uri) => {
      const cmd = parseCommandLine(['run', '--sink', uri], {});
      expect((cmd as { options: { sink: string } }).options.sink).toBe(uri);
    },
  );

  it('createSink makes the store of each scheme', async () => {
    const ch = createSink('clickhouse+http://127.0.0.1:9/db.t', ctx());
    const sl = createSink('syslog+tcp://127.0.0.1:9', ctx());
    expect([ch.name, sl.name]).toEqual(['clickhouse', 'syslog']);
    await ch.close();
    await sl.close();
  });

  it('a bad store URI fails at start with its code (the CLI exits 2)', () => {
    const codeOf = (uri: string): string | undefined => {
      try {
        createSink(uri, ctx());
      } catch (err) {
        return err instanceof TailshipError ? err.code : 'not a TailshipError';
      }
      return undefined;
    };
    expect(codeOf('clickhouse+http://127.0.0.1:9/')).toBe(ErrorCodes.SINK_CLICKHOUSE_URI);
    expect(codeOf('syslog+tcp://127.0.0.1:9?facility=nope')).toBe(ErrorCodes.SINK_SYSLOG_URI);
  });
});
