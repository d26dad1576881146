import { createSink } from '../../../src/deliver/create-sink.js';
import { silentLogger } from '../../../src/observe/log.js';
import { createMetrics } from '../../../src/observe/metrics.js';
import { anyValue, startFakeOtlp } from '../../helpers/fake-otlp.js';
import { startFaultGate } from '../../helpers/fault-gate.js';
import { sinkContract } from './sink-contract.js';

// otlp+http:// against the sink contract: the fake OTLP/HTTP receiver (official proto) behind a fault gate (down,
// and 400/413/401 answers as a collector or a gateway in front of it sends them).
sinkContract('otlp', async () => {
  const o = await startFakeOtlp();
  const gate = await startFaultGate(o.url);
  const answer = (status: number) => () => gate.answer({ status, headers: { 'content-type': 'application/x-protobuf' } });
  const heal = () => gate.answer(undefined);
  return {
    sink: createSink(`otlp+${gate.url}`, { logger: silentLogger(), metrics: createMetrics(), env: {}, stateDir: '/nonexistent' }),
    stored: async () => o.records().map((r) => (JSON.parse(anyValue(r.body) as string) as { auditID: string }).auditID),
    faults: {
      down: { inject: () => gate.stop(), heal: () => gate.start() },
      reject: { inject: answer(400), heal },
      tooLarge: { inject: answer(413), heal },
      auth: { inject: answer(401), heal },
    },
    cleanup: async () => {
      await gate.close();
      await o.close();
    },
  };
});
