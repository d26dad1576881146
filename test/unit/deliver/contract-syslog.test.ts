import { createSink } from '../../../src/deliver/create-sink.js';
import { silentLogger } from '../../../src/observe/log.js';
import { createMetrics } from '../../../src/observe/metrics.js';
import { rsyslogAvailable, startRsyslog } from '../../helpers/rsyslog-server.js';
import { sinkContract } from './sink-contract.js';

// syslog+tcp:// against the sink contract, on a REAL rsyslog (a fresh one per case). TCP syslog has no
// application acknowledgement: `send` resolves once the kernel took the bytes, so the contract checks the
// 'written' form of "acknowledged means durable": once the batch is flushed and the connection closed, rsyslog
// holds the whole batch, in order. There is no refusal, size or credential answer in the protocol (those faults
// are left out); down = rsyslog stopped (no restart on the same port: recovery is checked by the reconnect tests
// of test/integration/rsyslog-sink.test.ts).
const available = rsyslogAvailable();

sinkContract(
  'syslog',
  async () => {
    const rs = await startRsyslog();
    const sink = createSink(`syslog+tcp://127.0.0.1:${rs.port}?timeout=5000`, { logger: silentLogger(), metrics: createMetrics(), env: {}, stateDir: '/nonexistent' });
    return {
      sink,
      stored: async () => rs.messages().map((m) => /"auditID":"([^"]+)"/.exec(m)?.[1] ?? `? ${m}`),
      flush: async (expected) => {
        await sink.close();
        await rs.waitFor(expected.length, 10_000);
      },
      faults: { down: { inject: () => rs.stop() } },
      cleanup: () => rs.stop(),
    };
  },
  { acknowledgement: 'written', ...(available ? {} : { skip: 'rsyslogd is not installed (test/helpers/install-servers.sh)' }) },
);
