// Research §2.11 item 16: permission denied, then restored (the API server's 0600 root-owned file, and a 0700
// directory). Root ignores file modes, so when the tests run as root the agent is started as `nobody` (uid/gid
// 65534) through spawn's uid/gid options; if that user cannot run the CLI here the tests are skipped, saying why.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI, cliAvailable, waitUntil } from '../helpers/agent-process.js';
import { scenario } from './harness.js';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

/** Why the scenario cannot run here, or undefined when it can. */
function skipReason(): string | undefined {
  if (!cliAvailable()) return undefined; // let the test fail loudly: the agent is not built
  if (!isRoot) return undefined; // modes apply to us already
  const r = spawnSync(process.execPath, [CLI, '--version'], { uid: NOBODY, gid: NOBODY, encoding: 'utf8', timeout: 20_000 });
  if (r.error) return `cannot run the agent as uid ${NOBODY}: ${r.error.message}`;
  if (r.status !== 0) return `uid ${NOBODY} cannot run ${CLI} (exit ${r.status}: ${r.stderr.trim().slice(0, 200)}); the repo must be world-readable`;
  return undefined;
}

const reason = skipReason();
if (reason) console.log(`[permissions] skipped: ${reason}`);
const asAgentUser = isRoot ? { uid: NOBODY, gid: NOBODY } : {};

/** Lets the agent user into the workspace: root dir traversable, state and out dirs writable. */
function openWorkspace(h: ReturnType<typeof scenario>): void {
  if (!isRoot) return;
  fs.chmodSync(h.ws.root, 0o755);
  fs.chmodSync(h.ws.envFile, 0o644);
  for (const d of [h.ws.stateDir, h.ws.outDir]) fs.chownSync(d, NOBODY, NOBODY);
}

const denied = (l: { raw: string }): boolean => /EACCES|EPERM|permission/i.test(l.raw);

describe.skipIf(reason !== undefined)('permission denied, then restored (§2.11 #16)', () => {
  it('a 0600 file the agent cannot read is read from the start once it becomes readable', async () => {
    const h = scenario('perm-file');
    openWorkspace(h);
    fs.chmodSync(h.ws.logDir, 0o755);
    const lj = h.lumberjack(); // lumberjack creates the file 0600, owned by the writer (root)
    h.emit(lj, 50);
    fs.chmodSync(h.ws.activePath, isRoot ? 0o600 : 0o000);
    const agent = h.start([], asAgentUser);
    await waitUntil(
      () => agent.warnings().find(denied),
      () => `a warning that ${h.ws.activePath} is not readable; stderr:\n${agent.stderrTail()}`,
      { agent },
    );
    expect(h.deliveredKeys()).toEqual([]);
    fs.chmodSync(h.ws.activePath, 0o644);
    await h.waitDelivered();
    h.emit(lj, 50);
    await h.waitDelivered();
    await h.stop();
    h.assertExact();
    h.assertOrder();
  });

  it('a 0700 directory the agent cannot enter: the file in it is read once the directory opens', async () => {
    const h = scenario('perm-dir');
    openWorkspace(h);
    const lj = h.lumberjack();
    h.emit(lj, 50);
    fs.chmodSync(h.ws.activePath, 0o644);
    fs.chmodSync(h.ws.logDir, isRoot ? 0o700 : 0o000);
    const agent = h.start([], asAgentUser);
    await waitUntil(
      () => agent.warnings().find(denied),
      () => `a warning that ${h.ws.logDir} is not accessible; stderr:\n${agent.stderrTail()}`,
      { agent },
    );
    expect(h.deliveredKeys()).toEqual([]);
    fs.chmodSync(h.ws.logDir, 0o755);
    await h.waitDelivered();
    h.emit(lj, 50);
    await h.waitDelivered();
    await h.stop();
    h.assertExact();
    h.assertOrder();
  });
});
