import { createSink } from '../../../src/deliver/create-sink.js';
import { silentLogger } from '../../../src/observe/log.js';
import { createMetrics } from '../../../src/observe/metrics.js';
import { startFakeLoki } from '../../helpers/fake-loki.js';
import { startFaultGate } from '../../helpers/fault-gate.js';
import { sinkContract } from './sink-contract.js';

// loki+http:// against the sink contract: the fake push endpoint of test/helpers behind a fault gate (down, and
// 400/413/401 answers as Loki or a gateway in front of it sends them). The fake takes Loki's default since 2.4
// (unordered_writes: entries up to max_chunk_age/2 = 1 h older than a stream's newest are accepted): the
// contract sends batches at the same time, whose entries then interleave in time within one stream.
const LOKI_DEFAULT_WINDOW_NS = 3_600_000_000_000n;

sinkContract('loki', async () => {
  const loki = await startFakeLoki({ windowNs: LOKI_DEFAULT_WINDOW_NS });
  const gate = await startFaultGate(loki.url);
  const answer = (status: number, body: string) => () => gate.answer({ status, body });
  const heal = () => gate.answer(undefined);
  return {
    sink: createSink(`loki+${gate.url}`, { logger: silentLogger(), metrics: createMetrics(), env: {}, stateDir: '/nonexistent' }),
    stored: async () => [...loki.streams.values()].flatMap((s) => s.entries.map((e) => (JSON.parse(e.line) as { auditID: string }).auditID)),
    faults: {
      down: { inject: () => gate.stop(), heal: () => gate.start() },
      reject: { inject: answer(400, 'error at least one label pair is invalid: 0bad\n'), heal },
      tooLarge: { inject: answer(413, '<html><body><h1>413 Request Entity Too Large</h1></body></html>'), heal },
      auth: { inject: answer(401, 'no org id\n'), heal },
    },
    cleanup: async () => {
      await gate.close();
      await loki.close();
    },
  };
});
