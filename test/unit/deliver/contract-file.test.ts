import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFileSink } from '../../../src/deliver/sinks/file-sink.js';
import { silentLogger } from '../../../src/observe/log.js';
import { sinkContract } from './sink-contract.js';
import { tempDir } from './support.js';

// file:DIR against the sink contract. "Down" is a directory that cannot be created (a file stands in its way).
sinkContract('file', async () => {
  const t = await tempDir();
  const out = join(t.dir, 'out');
  return {
    sink: createFileSink(out, { logger: silentLogger() }),
    stored: async () => {
      const text = await readFile(join(out, 'audit-store.ndjson'), 'utf8').catch(() => '');
      return text.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { auditID: string }).auditID);
    },
    faults: {
      down: {
        inject: () => writeFile(out, 'not a directory'),
        heal: async () => {
          await rm(out);
          await mkdir(out);
        },
      },
    },
    cleanup: t.cleanup,
  };
});
