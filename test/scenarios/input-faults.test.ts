// Issue 10 items 1 and 10: a problem with one input never stops the agent or another input.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../helpers/agent-process.js';
import { appender, scenario } from './harness.js';

describe('one input in trouble, the others ship', () => {
  it('item 1: a directory at an input path is skipped with a warning, other inputs ship', async () => {
    const h = scenario('dir-at-input');
    const dirInput = path.join(h.ws.logDir, 'adir.log');
    fs.mkdirSync(dirInput);
    // a second input whose path is a directory, and a glob that also matches that directory
    h.ws.writeEnv(h.ws.activePath, { more: [`aliyun_logs_other=${dirInput}`, `aliyun_logs_globbed=${path.join(h.ws.logDir, '*.log')}`] });
    const w = appender(h.ws.activePath);
    h.emit(w, 20);
    const agent = h.start();
    await h.waitDelivered();
    // a directory appearing later where a glob looks
    fs.mkdirSync(path.join(h.ws.logDir, 'later.log'));
    h.emit(w, 20);
    await h.waitDelivered();
    await new Promise((r) => setTimeout(r, 1200)); // several polls: the warnings must not repeat
    expect(agent.exit).toBeUndefined();
    const dirWarnings = agent.warnings().filter((l) => String(l.file ?? '').includes('adir.log'));
    expect(dirWarnings.length).toBeGreaterThanOrEqual(1);
    // one warning per lane (the plain input and the glob's match), not one per poll
    expect(dirWarnings.length).toBeLessThanOrEqual(2);
    expect(agent.warnings().filter((l) => String(l.file ?? '').includes('later.log')).length).toBeLessThanOrEqual(1);
    expect(agent.warnings().filter((l) => /EISDIR|fatal/i.test(l.raw) && !l.file)).toEqual([]);
    await h.stop();
    w.close();
    h.assertExact();
  });
});

export { waitUntil };
