// Issue 10 items 1 and 10: a problem with one input never stops the agent or another input.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
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

/** waitUntil for an async condition (an HTTP answer), bounded in time. */
async function waitAsync<T>(cond: () => Promise<T | undefined>, describe: () => string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${describe()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('item 10: what operators see of an input in trouble', () => {
  it('item 10: a glob with a missing dir or no match is warned once, input_up 0, /readyz 503 with the reason after the grace, 200 once it is back', async () => {
    const { freePort, scrapeMetric } = await import('../helpers/agent-process.js');
    const h = scenario('input-health');
    const missingDir = path.join(h.ws.root, 'nodir');
    h.ws.writeEnv(h.ws.activePath, { more: [`aliyun_logs_nodir=${path.join(missingDir, '*.log')}`, `aliyun_logs_nomatch=${path.join(h.ws.logDir, '*.json')}`] });
    const w = appender(h.ws.activePath);
    h.emit(w, 10);
    const port = await freePort();
    const agent = h.start(['--listen', `127.0.0.1:${port}`, '--input-down-grace', '1000']);
    await h.waitDelivered();
    const readyz = async (): Promise<{ status: number; body: string }> => {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      return { status: r.status, body: await r.text() };
    };
    const notReady = await waitAsync(
      async () => {
        const r = await readyz();
        return r.status === 503 && /nodir/.test(r.body) && /nomatch/.test(r.body) ? r : undefined;
      },
      () => `a 503 naming both inputs; stderr:\n${agent.stderrTail()}`,
      10_000,
    );
    expect(notReady.body).toMatch(/no file matches|cannot list/);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(/tailship_input_up\{input="audit-test"\} 1/);
    expect(text).toMatch(/tailship_input_up\{input="nodir"\} 0/);
    expect(text).toMatch(/tailship_input_up\{input="nomatch"\} 0/);
    expect(text).toMatch(/tailship_input_stale_seconds\{input="audit-test"\} \d/);
    await new Promise((r) => setTimeout(r, 1000));
    expect(agent.warnings().filter((l) => l.input === 'nodir').length).toBe(1);
    expect(agent.warnings().filter((l) => l.input === 'nomatch').length).toBe(1);

    fs.mkdirSync(missingDir);
    fs.writeFileSync(path.join(missingDir, 'a.log'), 'x\n');
    fs.writeFileSync(path.join(h.ws.logDir, 'a.json'), 'y\n');
    await waitAsync(async () => ((await readyz()).status === 200 ? true : undefined), () => `200 once both are back\n${agent.stderrTail()}`, 10_000);
    await waitAsync(async () => ((await scrapeMetric(port, 'tailship_input_up')) === 3 ? true : undefined), () => 'input_up 1 for all three', 5_000);
    await h.stop();
    w.close();
  });
});
