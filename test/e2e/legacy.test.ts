// SPEC §9 through the real agent: the legacy lines of shared/data/legacy arrive as audit.k8s.io/v1 Events, field by
// field; the pre-1.7 pair is joined also across a SIGKILL and a rotation between its two lines.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { createWorkspace, killAllAgents, waitForLogs, waitUntil, type Workspace } from '../helpers/agent-process.js';
import { readCheckpoints } from './support.js';

const FIX = new URL('../fixtures/audit/legacy/', import.meta.url);
const read = (name: string): string => fs.readFileSync(new URL(name, FIX), 'utf8');

let ws: Workspace | undefined;
afterEach(async () => {
  await killAllAgents();
  ws?.cleanup();
  ws = undefined;
});

const strip = (l: Record<string, unknown>): Record<string, unknown> => {
  const { __time__: _t, __tag__: _g, ...rest } = l;
  return rest;
};

test('the legacy lines of shared/data/legacy arrive as the Events SPEC §9 describes', async () => {
  ws = createWorkspace('e2e-legacy');
  const text = read('fluentd-k8s-daemonset-example.audit.log') + read('k8s-docs-1.7-legacy-stages.audit.log') + read('k8s-docs-1.8-legacy-stages.audit.log');
  fs.writeFileSync(ws.activePath, text);
  const agent = ws.start([], { env: { TAILSHIP_LEGACY_KEEP_RAW: 'true' } });
  const logs = await waitForLogs(ws.reader(), (l) => (l.length >= 5 ? true : `${l.length} of 5 events`), { agent });
  expect(logs).toHaveLength(5);
  const by = (id: string, stage: string) => strip(logs.find((l) => l.auditID === id && l.stage === stage)!);
  expect(by('90c73c7c-97d6-4b65-9461-f94606ff825f', 'ResponseComplete')).toEqual({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: '90c73c7c-97d6-4b65-9461-f94606ff825f',
    stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/default/pods',
    verb: 'get',
    user: { username: 'kubecfg' },
    sourceIPs: ['104.132.1.72'],
    objectRef: { namespace: 'default' },
    responseStatus: { metadata: {}, code: 200 },
    requestReceivedTimestamp: '2017-02-09T00:15:57.992775796Z',
    stageTimestamp: '2017-02-09T00:15:57.993528822Z',
    __legacy__: text.split('\n').slice(0, 2).join('\n'),
  });
  expect(by('591e9fde-6a98-46f6-b7bc-ec8ef575696d', 'RequestReceived')).toMatchObject({
    verb: 'update',
    user: { username: 'system:serviceaccount:kube-system:default', groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] },
    objectRef: { namespace: 'kube-system' },
    requestURI: '/api/v1/namespaces/kube-system/endpoints/kube-controller-manager',
    requestReceivedTimestamp: '2017-06-15T21:50:50.259470834Z',
  });
  expect(by('591e9fde-6a98-46f6-b7bc-ec8ef575696d', 'RequestReceived').responseStatus).toBeUndefined();
  expect(by('591e9fde-6a98-46f6-b7bc-ec8ef575696d', 'ResponseComplete').responseStatus).toEqual({ metadata: {}, code: 200 });
  const list = by('c28a95ad-f9dd-47e1-a617-b6dc152db95f', 'ResponseComplete');
  expect(list).toMatchObject({ verb: 'list', user: { username: 'kubecfg', groups: ['system:masters', 'system:authenticated'] }, stageTimestamp: '2017-09-05T10:08:19.885328047Z' });
  const full = logs.find((l) => l.auditID === 'c28a95ad-f9dd-47e1-a617-b6dc152db95f' && l.stage === 'ResponseComplete')!;
  expect(full.__time__).toBe(Date.parse('2017-09-05T10:08:19Z') / 1000);
  for (const l of logs) expect(l.__tag__?.__parse_error__).toBeUndefined();
  await agent.stop();
});

test('pre-1.7 pair split by a SIGKILL and a rotation: joined once; a request without response is shipped __unpaired__; an unterminated quote stays a parse error', async () => {
  ws = createWorkspace('e2e-legacy-join');
  const [req, resp] = read('fluentd-k8s-daemonset-example.audit.log').split('\n');
  fs.writeFileSync(ws.activePath, `${req}\n`);
  let agent = ws.start();
  // the request line's bytes are acknowledged (held, nothing shipped) before the kill
  await waitUntil(() => readCheckpoints(ws!.stateDir).some((c) => c.offset === req!.length + 1), () => 'the request line committed', { agent });
  agent.kill('SIGKILL');
  await agent.waitExit();
  expect(ws.reader().all()).toHaveLength(0);
  // rotated while down; the response is in the new file
  fs.renameSync(ws.activePath, path.join(ws.logDir, 'kubernetes-2017-02-09T00-16-00.000.audit'));
  const lonely = '2017-02-09T00:16:00Z AUDIT: id="lonely" ip="1.1.1.1" method="DELETE" user="bob" as="<self>" asgroups="<lookup>" namespace="default" uri="/api/v1/namespaces/default/pods/x"';
  const later = '2017-02-09T00:16:10Z AUDIT: id="later" stage="ResponseComplete" ip="1.1.1.1" method="get" user="bob" groups="<none>" as="<self>" asgroups="<lookup>" namespace="<none>" uri="/healthz" response="200"';
  const bad = '2017-02-09T00:16:11Z AUDIT: id="bad" user="never closed';
  fs.writeFileSync(ws.activePath, `${resp}\n${lonely}\n${later}\n${bad}\n`);
  agent = ws.start();
  const logs = await waitForLogs(ws.reader(), (l) => (l.length >= 4 ? true : `${l.length} of 4`), { agent });
  await new Promise((r) => setTimeout(r, 300));
  const all = ws.reader().all();
  expect(all).toHaveLength(4);
  expect(all.filter((l) => l.auditID === '90c73c7c-97d6-4b65-9461-f94606ff825f')).toHaveLength(1);
  expect(logs.find((l) => l.auditID === '90c73c7c-97d6-4b65-9461-f94606ff825f')).toMatchObject({ stage: 'ResponseComplete', verb: 'get', requestURI: '/api/v1/namespaces/default/pods', responseStatus: { code: 200 } });
  const unpaired = all.find((l) => l.auditID === 'lonely')!;
  expect(unpaired).toMatchObject({ stage: 'RequestReceived', verb: 'delete' });
  expect(unpaired.__tag__?.__unpaired__).toBe('true');
  const broken = all.find((l) => l.content === bad)!;
  expect(broken.__tag__?.__parse_error__).toMatch(/unterminated quote/);
  await agent.stop();
});
