import { createSink } from '../../../src/deliver/create-sink.js';
import { silentLogger } from '../../../src/observe/log.js';
import { createMetrics } from '../../../src/observe/metrics.js';
import { startFakeElasticsearch } from '../../helpers/fake-elasticsearch.js';
import { startFaultGate } from '../../helpers/fault-gate.js';
import { sinkContract } from './sink-contract.js';

// elasticsearch+http:// against the sink contract: the fake `_bulk` of test/helpers behind a fault gate (down,
// and whole-request 400/413/401 answers as Elasticsearch words them).
const esError = (type: string, status: number) => JSON.stringify({ error: { root_cause: [{ type, reason: type }], type, reason: type }, status });

sinkContract('elasticsearch', async () => {
  const es = await startFakeElasticsearch();
  const gate = await startFaultGate(es.url);
  const answer = (status: number, type: string) => () =>
    gate.answer({ status, body: esError(type, status), headers: { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' } });
  const heal = () => gate.answer(undefined);
  return {
    sink: createSink(`elasticsearch+${gate.url}/k8s-audit`, { logger: silentLogger(), metrics: createMetrics(), env: {}, stateDir: '/nonexistent' }),
    stored: async () =>
      [...(es.indices.get('k8s-audit')?.values() ?? [])].map((d) => (d.kubernetes as { audit: { auditID: string } }).audit.auditID),
    faults: {
      down: { inject: () => gate.stop(), heal: () => gate.start() },
      reject: { inject: answer(400, 'illegal_argument_exception'), heal },
      tooLarge: { inject: answer(413, 'content_too_long_exception'), heal },
      auth: { inject: answer(401, 'security_exception'), heal },
    },
    cleanup: async () => {
      await gate.close();
      await es.close();
    },
  };
});
