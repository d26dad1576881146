// Item 15 of issue 10: a DaemonSet pod on a node with no aliyun_logs_* must not crash-loop. `run` exits 2 with no
// input (SPEC), unless --wait-for-inputs / TAILSHIP_WAIT_FOR_INPUTS=true: then it waits, says so, /readyz 503.
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../../../src/config/options.js';
import { waitForInputs } from '../../../src/preflight/wait-for-inputs.js';
import { createWorkspace, killAllAgents, runCli, type Workspace } from '../../helpers/agent-process.js';
import { httpGet, metricsPort } from '../../e2e/support.js';

const workspaces: Workspace[] = [];
function ws(name: string): Workspace {
  const w = createWorkspace(name);
  workspaces.push(w);
  return w;
}
afterEach(async () => {
  await killAllAgents();
  for (const w of workspaces.splice(0)) w.cleanup();
});

describe('item 15: --wait-for-inputs', () => {
  it('item 15: without the flag, run with no input still exits 2 (SPEC)', () => {
    const w = ws('no-wait');
    fs.writeFileSync(w.envFile, '');
    expect(runCli(['run', ...w.args()]).code).toBe(2);
  });

  it('item 15: with TAILSHIP_WAIT_FOR_INPUTS=true, run waits: a warning, /readyz 503 with the reason, SIGTERM exits 0', async () => {
    const w = ws('wait');
    fs.writeFileSync(w.envFile, '');
    const agent = w.start(['--listen', '127.0.0.1:0', '--log-level', 'info'], { env: { TAILSHIP_WAIT_FOR_INPUTS: 'true' } });
    const port = await metricsPort(agent);
    const ready = await httpGet(port, '/readyz');
    expect(ready?.status).toBe(503);
    expect(ready?.text).toMatch(/no input/);
    expect(agent.logs.some((l) => l.level === 40 && /waiting/.test(String(l.msg)))).toBe(true);
    expect((await httpGet(port, '/healthz'))?.status).toBe(200);
    const exit = await agent.stop();
    expect(exit.code).toBe(0);
  });

  it('item 15: the wait re-resolves the configuration and ends when an input appears', async () => {
    const w = ws('wait-unit');
    fs.writeFileSync(w.envFile, '');
    const lines: Array<{ msg: string }> = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const options = { ...DEFAULT_OPTIONS, envFiles: [w.envFile], listen: 'off', waitForInputs: true };
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const waiting = waitForInputs(options, {}, logger, { stopped, recheckMs: 20, logEveryMs: 60 });
    await new Promise((r) => setTimeout(r, 150));
    fs.writeFileSync(w.envFile, `aliyun_logs_app=${path.join(w.logDir, 'app.log')}\n`);
    const resolved = await waiting;
    stop();
    expect(resolved?.inputs.map((i) => i.key)).toEqual(['app']);
    // It said so more than once while waiting (every logEveryMs), then that it starts.
    expect(lines.filter((l) => /waiting/.test(l.msg)).length).toBeGreaterThanOrEqual(2);
    expect(lines.at(-1)?.msg).toMatch(/starting/);
  });

  it('item 15: a stop while waiting ends the wait with no configuration', async () => {
    const options = { ...DEFAULT_OPTIONS, envFiles: [], listen: 'off', waitForInputs: true };
    const result = await waitForInputs(options, {}, pino({ level: 'silent' }), { stopped: Promise.resolve(), recheckMs: 10_000 });
    expect(result).toBeUndefined();
  });
});
