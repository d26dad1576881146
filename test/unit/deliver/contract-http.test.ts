import { createHttpSink } from '../../../src/deliver/sinks/http-sink.js';
import { silentLogger } from '../../../src/observe/log.js';
import { startFakeHttpStore } from '../../helpers/fake-http-store.js';
import { sinkContract } from './sink-contract.js';

// http(s):// against the sink contract, with the fake store of test/helpers on 127.0.0.1.
sinkContract('http', async () => {
  const store = await startFakeHttpStore();
  const answer = (status: number) => () => store.setFault(() => ({ status, body: `answered ${status}` }));
  const heal = () => store.setFault(undefined);
  return {
    sink: createHttpSink(new URL(store.url), { logger: silentLogger(), env: {} }),
    stored: async () => store.logs().map((l) => l.auditID as string),
    faults: {
      down: { inject: () => store.stop(), heal: () => store.start() },
      reject: { inject: answer(400), heal },
      tooLarge: { inject: answer(413), heal },
      auth: { inject: answer(401), heal },
    },
    cleanup: () => store.close(),
  };
});
