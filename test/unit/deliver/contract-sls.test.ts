import { createSlsSink } from '../../../src/deliver/sinks/sls/sls-sink.js';
import { silentLogger } from '../../../src/observe/log.js';
import { startFakeSls, type FakeSlsOptions } from '../../helpers/fake-sls.js';
import { sinkContract } from './sink-contract.js';

// sls:// against the sink contract, with the fake SLS of test/helpers (signature and body checked) on 127.0.0.1.
sinkContract('sls', async () => {
  const fake = await startFakeSls();
  const reply = (r: ReturnType<NonNullable<FakeSlsOptions['fault']>>) => () => fake.setFault(() => r);
  const heal = () => fake.setFault(undefined);
  return {
    sink: createSlsSink(new URL(`${fake.url}?project=p`), { logger: silentLogger(), env: fake.env }),
    stored: async () =>
      fake.logGroups.flatMap((g) => g.logGroup.Logs.map((l) => l.Contents.find((c) => c.Key === 'auditID')?.Value ?? '?')),
    faults: {
      down: { inject: reply('reset'), heal },
      reject: { inject: reply({ status: 400, errorCode: 'PostBodyInvalid', errorMessage: 'bad body' }), heal },
      tooLarge: { inject: reply({ status: 413, errorCode: 'PostBodyTooLarge', errorMessage: 'too large' }), heal },
      auth: { inject: reply({ status: 401, errorCode: 'Unauthorized', errorMessage: 'denied' }), heal },
    },
    cleanup: () => fake.close(),
  };
});
