// Item 14 of issue 10: logs operators can grep (level labels, ISO time), a second SIGTERM that says it stops at
// once and exits non-zero, and an HTTP sink that says who it is (User-Agent).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpSink } from '../../../src/deliver/sinks/http-sink.js';
import { USER_AGENT } from '../../../src/version.js';
import { startFakeHttpStore, type FakeHttpStore } from '../../helpers/fake-http-store.js';
import { asNobody } from '../../helpers/as-nobody.js';
import { CLI, createWorkspace, killAllAgents, waitUntil, type Workspace } from '../../helpers/agent-process.js';
import { makeBatch, captureLogger } from '../deliver/support.js';

const workspaces: Workspace[] = [];
let store: FakeHttpStore | undefined;
afterEach(async () => {
  await killAllAgents();
  await store?.close();
  store = undefined;
  for (const w of workspaces.splice(0)) w.cleanup();
});

describe('item 14: logs and headers', () => {
  it('item 14: the HTTP sink sends User-Agent: tailship/VERSION', async () => {
    store = await startFakeHttpStore();
    const pkg = JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(USER_AGENT).toBe(`tailship/${pkg.version}`);
    const sink = createHttpSink(new URL(store.url), { logger: captureLogger().logger, env: {} });
    await sink.send(makeBatch({ n: 1 }));
    await sink.close();
    expect(store.requests[0]?.headers['user-agent']).toBe(USER_AGENT);
  });

  it('item 14: agent log lines carry "level":"info" and an ISO time', async () => {
    const w = createWorkspace('log-format');
    workspaces.push(w);
    fs.writeFileSync(w.activePath, '{"a":1}\n');
    const agent = w.start(['--log-level', 'info', '--exit-when-idle']);
    await agent.waitExit(20_000);
    const first = JSON.parse(agent.stderrLines.find((l) => l.startsWith('{'))!) as { level: unknown; time: unknown };
    expect(first.level).toBe('info');
    expect(String(first.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('item 14: a second SIGTERM logs that it stops at once and exits 143', async () => {
    store = await startFakeHttpStore();
    store.setFault(() => ({ status: 503 })); // nothing is ever acknowledged: the drain would wait the whole grace
    const w = createWorkspace('second-sigterm');
    workspaces.push(w);
    fs.writeFileSync(w.activePath, '{"a":1}\n');
    const agent = w.start(['--sink', store.url, '--shutdown-grace', '60s', '--log-level', 'info']);
    await waitUntil(() => store!.requests.length > 0, () => 'a first request to the store', { agent });
    agent.kill('SIGTERM');
    await waitUntil(() => agent.logs.some((l) => l.signal === 'SIGTERM'), () => 'the stop line of the first SIGTERM', { agent });
    agent.kill('SIGTERM');
    const exit = await agent.waitExit(10_000);
    expect(exit.code).toBe(143);
    expect(agent.logs.some((l) => l.level === 40 && /second SIGTERM.*at once/.test(String(l.msg)))).toBe(true);
  });
});

describe('item 14: one problem, one line', () => {
  const nobody = asNobody();
  const setpriv = nobody.ok;
  it.skipIf(!setpriv)('item 14: an unreadable (EACCES) input file is logged once, not twice (as nobody, via setpriv)', async () => {
    const w = createWorkspace('eacces-once');
    workspaces.push(w);
    for (const d of [w.root, w.logDir]) fs.chmodSync(d, 0o755);
    for (const d of [w.stateDir, w.outDir]) fs.chmodSync(d, 0o777);
    fs.chmodSync(w.envFile, 0o644);
    fs.writeFileSync(w.activePath, '{"a":1}\n', { mode: 0o600 }); // root's: nobody cannot read it
    const r = spawnSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, 'run', ...w.args(['--log-level', 'info', '--shutdown-grace', '0'])],
      { encoding: 'utf8', timeout: 5_000, killSignal: 'SIGTERM', env: { PATH: process.env.PATH, HOME: '/tmp', NODE_NAME: 'n' } },
    );
    const lines = r.stderr.split('\n').filter((l) => l.includes('EACCES'));
    expect(r.stderr).toContain('tailship started');
    expect(lines, r.stderr).toHaveLength(1);
  });
  if (!nobody.ok) it.skip(`item 14 (EACCES once) skipped: ${nobody.why}`, () => undefined);
});
