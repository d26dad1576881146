import { Writable } from 'node:stream';
import { createStdoutSink } from '../../../src/deliver/sinks/stdout-sink.js';
import { silentLogger } from '../../../src/observe/log.js';
import { sinkContract } from './sink-contract.js';

// stdout: against the sink contract, on a stream that stands for the process's stdout. "Down" is a write that
// fails with EIO (a broken pipe is 'blocked': stdout-sink.test.ts).
sinkContract('stdout', async () => {
  let text = '';
  let failing = false;
  const stream = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _enc, cb) {
      if (failing) return cb(Object.assign(new Error('write EIO'), { code: 'EIO' }));
      text += chunk.toString('utf8');
      setImmediate(cb); // asynchronous like a pipe, so a send can be under way when close or abort comes
    },
  });
  stream.on('error', () => undefined);
  return {
    sink: createStdoutSink({ logger: silentLogger() }, { stream }),
    stored: async () => text.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { auditID: string }).auditID),
    faults: {
      down: {
        inject: () => {
          failing = true;
        },
      },
    },
    cleanup: async () => undefined,
  };
});
