// `node dist/cli.js run` without node flags relaunches itself under the node flags (src/launch/heap-bound.ts). On
// Node < 22.15 that keeps a relaying parent: signals reach the agent once, and the agent dies with its parent.
import fs from 'node:fs';
import { afterEach, expect, test, vi } from 'vitest';
import { MALLOC_ENV, NODE_FLAGS } from '../../src/launch/heap-bound.js';
import { createWorkspace, killAllAgents, withChildren, type AgentProcess, type Workspace } from '../helpers/agent-process.js';

const hasExecve = typeof (process as unknown as { execve?: unknown }).execve === 'function';
let ws: Workspace | undefined;
afterEach(async () => {
  await killAllAgents();
  ws?.cleanup();
  ws = undefined;
});

/** The pid the agent runs in: the launched process itself (execve), or its one child. */
async function agentPid(launched: number): Promise<number> {
  if (hasExecve) return launched;
  return vi.waitFor(
    () => {
      const kids = withChildren(launched).slice(1);
      if (kids.length !== 1) throw new Error(`children of ${launched}: ${kids.join(' ')}`);
      return kids[0]!;
    },
    { timeout: 10_000, interval: 50 },
  );
}

/** Its signal handlers are installed once it logged that it started. */
const started = (agent: AgentProcess): Promise<void> =>
  vi.waitFor(() => expect(agent.logs.some((l) => l.msg === 'tailship started')).toBe(true), { timeout: 15_000, interval: 50 });
const cmdline = (pid: number): string => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
/** glibc reads them at start: they must be in the agent process's own environment. */
const expectMallocEnv = (pid: number): void =>
  expect(fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')).toEqual(expect.arrayContaining(Object.entries(MALLOC_ENV).map(([k, v]) => `${k}=${v}`)));
const gone = (pid: number): boolean => !fs.existsSync(`/proc/${pid}`) || /^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));

test('the agent runs under the heap flags; SIGTERM to the launched process stops it cleanly (exit 0)', async () => {
  ws = createWorkspace('e2e-relaunch');
  fs.writeFileSync(ws.activePath, '');
  const agent = ws.start(['--log-level', 'info']);
  const pid = await agentPid(agent.pid);
  expect(cmdline(pid)).toContain(NODE_FLAGS.join(' '));
  expectMallocEnv(pid);
  await started(agent);
  const info = await agent.stop();
  expect(info.code).toBe(0);
  await vi.waitFor(() => expect(gone(pid)).toBe(true), { timeout: 5_000 });
}, 30_000);

test('the `tailship` command runs the agent itself (no relaunch, no parent) under every node flag and malloc setting', async () => {
  ws = createWorkspace('e2e-command');
  fs.writeFileSync(ws.activePath, '');
  const agent = ws.start(['--log-level', 'info'], { asCommand: true });
  await started(agent);
  expect(withChildren(agent.pid)).toEqual([agent.pid]); // sh exec'd node, and node did not relaunch
  expect(cmdline(agent.pid)).toContain(`${NODE_FLAGS.join(' ')} -- `);
  expectMallocEnv(agent.pid);
  expect((await agent.stop()).code).toBe(0);
}, 30_000);

test.skipIf(hasExecve)('kill -9 of the relaying parent: the agent goes too (no orphan)', async () => {
  ws = createWorkspace('e2e-relaunch-kill');
  fs.writeFileSync(ws.activePath, '');
  const agent = ws.start(['--log-level', 'info']);
  const pid = await agentPid(agent.pid);
  await started(agent);
  agent.kill('SIGKILL');
  await agent.waitExit(5_000);
  await vi.waitFor(() => expect(gone(pid)).toBe(true), { timeout: 5_000, interval: 50 });
}, 30_000);
