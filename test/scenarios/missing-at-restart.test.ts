// A file that is missing when the agent restarts (a mount not there yet, a directory moved away for a moment)
// keeps its checkpoint: when it comes back, only what was appended meanwhile is shipped, nothing twice.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { waitReady, freePort } from '../helpers/agent-process.js';
import { appender, scenario } from './harness.js';

describe('checkpoint of a file missing at restart', () => {
  it('is kept while the file is away, and resumed from when it is back', async () => {
    const h = scenario('missing-at-restart');
    const file = appender(h.ws.activePath);
    h.emit(file, 100);
    h.start();
    await h.waitDelivered();
    await h.stop();

    // The whole log directory is away while the agent runs for a while (its checkpoint is written meanwhile).
    const away = `${h.ws.logDir}.away`;
    fs.renameSync(h.ws.logDir, away);
    const port = await freePort();
    const agent = h.start(['--listen', `127.0.0.1:${port}`]);
    await waitReady(port);
    const before = fs.readFileSync(`${h.ws.stateDir}/checkpoints.json`, 'utf8');
    expect(JSON.parse(before).streams.length, 'the record of the missing file is still in the checkpoint').toBe(1);
    await agent.stop();

    fs.renameSync(away, h.ws.logDir);
    h.emit(file, 50);
    h.start();
    await h.waitDelivered();
    await h.stop();
    file.close();
    h.assertExact(); // 150 events, each once: the first 100 were not shipped again
  });
});
