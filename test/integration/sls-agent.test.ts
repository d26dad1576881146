import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { createWorkspace, killAllAgents, waitUntil, type Workspace } from '../helpers/agent-process.js';
import { startFakeSls, type FakeSls } from '../helpers/fake-sls.js';
import { ErrorCodes } from '../../src/errors.js';

// tailship run → sls+http:// → a local PutLogs endpoint that checks signature, MD5 and lz4, and decodes the
// LogGroup with protobufjs: the whole path a logtail-ds user relies on, with a real audit log.
const SAMPLE = path.resolve('test/fixtures/sample/var/log/kubernetes');

let ws: Workspace | undefined;
let sls: FakeSls | undefined;
afterEach(async () => {
  await killAllAgents();
  await sls?.close();
  ws?.cleanup();
});

function copySample(ws: Workspace): string[] {
  const lines: string[] = [];
  for (const name of ['kubernetes-2026-11-20T08-00-00.000.audit', 'kubernetes.audit']) {
    const text = fs.readFileSync(path.join(SAMPLE, name), 'utf8');
    lines.push(...text.split('\n').filter(Boolean));
  }
  fs.writeFileSync(ws.activePath, `${lines.join('\n')}\n`);
  return lines;
}

test('every event of a real audit log arrives in SLS with its contents, event time and tags', async () => {
  ws = createWorkspace('sls-e2e');
  sls = await startFakeSls();
  const lines = copySample(ws);
  ws.writeEnv(ws.activePath, { more: ['aliyun_logs_audit-test_tags=audit=apiserver'] });
  const agent = ws.start(['--sink', `${sls.url}?project=k8s-log-c1`, '--exit-when-idle'], { env: sls.env });
  const exit = await agent.waitExit(60_000);
  expect(exit.code, agent.stderrTail()).toBe(0);
  expect(sls.problems).toEqual([]);

  const logs = sls.logGroups.flatMap((g) => g.logGroup.Logs.map((l) => ({ g, l })));
  expect(logs).toHaveLength(lines.length);
  for (const [i, { g, l }] of logs.entries()) {
    const event = JSON.parse(lines[i]!) as Record<string, unknown>;
    const contents = Object.fromEntries(l.Contents.map((c) => [c.Key, c.Value]));
    expect(contents.auditID).toBe(event.auditID);
    expect(contents.stage).toBe(event.stage);
    expect(JSON.parse(contents.user!)).toEqual(event.user);
    expect(l.Time).toBe(Math.floor(Date.parse(event.stageTimestamp as string) / 1000));
    expect(g.project).toBe('k8s-log-c1');
    expect(g.logstore).toBe('audit-test');
    const tags = Object.fromEntries(g.logGroup.LogTags.map((t) => [t.Key, t.Value]));
    expect(tags).toMatchObject({ audit: 'apiserver', __hostname__: 'test-node', __path__: ws.activePath });
  }
});

test('403 SignatureNotMatch blocks without a retry storm, and delivery resumes once the key is fixed', async () => {
  ws = createWorkspace('sls-e2e-403');
  sls = await startFakeSls();
  const lines = copySample(ws);
  const env = { ...sls.env, ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'wrong-secret' };
  const credFile = path.join(ws.root, 'sls-credentials.json');
  fs.writeFileSync(credFile, JSON.stringify({ AccessKeyId: sls.env.ALIBABA_CLOUD_ACCESS_KEY_ID, AccessKeySecret: 'wrong-secret' }));
  const agent = ws.start(['--sink', `${sls.url}?project=p`, '--exit-when-idle'], {
    env: { ...env, TAILSHIP_SLS_CREDENTIALS_FILE: credFile },
  });
  await waitUntil(() => sls!.requests.length > 0, () => 'a first PutLogs request', { timeoutMs: 20_000, agent });
  // Give a retry storm the chance to show: the agent must hold back for its slow blocked back-off.
  await waitUntil(
    () => agent.logs.some((l) => (l.level ?? 0) >= 40 && l.code === ErrorCodes.SINK_AUTH && l.storeCode === 'SignatureNotMatch'),
    () => `a warning that names the signature problem; stderr:\n${agent.stderrTail()}`,
    { timeoutMs: 20_000, agent },
  );
  const before = sls.requests.length;
  expect(before).toBeLessThanOrEqual(8); // a few concurrent batches, each tried once
  expect(sls.logGroups).toHaveLength(0);
  // The mounted Secret is rotated to the right key: no restart needed.
  fs.writeFileSync(credFile, JSON.stringify({ AccessKeyId: sls.env.ALIBABA_CLOUD_ACCESS_KEY_ID, AccessKeySecret: sls.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET }));
  const exit = await agent.waitExit(120_000);
  expect(exit.code, agent.stderrTail()).toBe(0);
  const count = sls.logGroups.reduce((n, g) => n + g.logGroup.Logs.length, 0);
  expect(count).toBe(lines.length);
  // Secrets never reach the agent's own logs.
  expect(agent.stderrLines.join('\n')).not.toContain(sls.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET);
});
