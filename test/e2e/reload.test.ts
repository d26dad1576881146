// Issue 10 item 9 (SPEC §11): the config sources are followed while running; SIGHUP re-resolves, never exits.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createAuditGen } from '../helpers/audit-gen.js';
import { createWorkspace, killAllAgents, startAgent, waitUntil, type AgentProcess } from '../helpers/agent-process.js';
import { keysOf, SinkReader } from '../helpers/ndjson.js';

const manifest = (inputs: Array<[string, string]>): string =>
  [
    'apiVersion: v1',
    'kind: Pod',
    'metadata: { name: kube-apiserver, namespace: kube-system }',
    'spec:',
    '  containers:',
    '  - name: kube-apiserver',
    '    image: registry.k8s.io/kube-apiserver:v1.30.0',
    '    env:',
    ...inputs.flatMap(([key, p]) => [`    - { name: aliyun_logs_${key}, value: "${p}" }`, `    - { name: aliyun_logs_${key}_product, value: k8s-audit }`]),
    '    volumeMounts: [{ name: audit, mountPath: /var/log/kubernetes }]',
    '  volumes: [{ name: audit, hostPath: { path: /var/log/kubernetes, type: DirectoryOrCreate } }]',
    '',
  ].join('\n');

/** kubelet-style swap: write aside, rename over the manifest. */
function swap(file: string, text: string): void {
  fs.writeFileSync(`${file}.tmp`, text);
  fs.renameSync(`${file}.tmp`, file);
}

function setup(name: string) {
  const ws = createWorkspace(name);
  onTestFinished(async (ctx) => {
    await killAllAgents();
    if (ctx.task.result?.state !== 'fail') ws.cleanup();
    else console.log(`[reload] kept ${ws.root}`);
  });
  const hostLogs = path.join(ws.root, 'host', 'var', 'log', 'kubernetes');
  const manifests = path.join(ws.root, 'manifests');
  fs.mkdirSync(hostLogs, { recursive: true });
  fs.mkdirSync(manifests);
  const gen = createAuditGen({ seed: 7 });
  const write = (file: string, n: number): string[] => {
    const lines = gen.take(n);
    fs.appendFileSync(path.join(hostLogs, file), lines.map((l) => l.line).join(''));
    return lines.map((l) => l.key);
  };
  const args = (extra: string[]): string[] => [
    ...['--host-root', path.join(ws.root, 'host'), '--state-dir', ws.stateDir, '--sink', `file:${ws.outDir}`],
    ...['--listen', 'off', '--log-level', 'info', '--batch-max-wait', '50', ...extra],
  ];
  return { ws, hostLogs, manifests, write, args };
}

const logged = (agent: AgentProcess, re: RegExp) => () => agent.logs.find((l) => typeof l.msg === 'string' && re.test(l.msg));

describe('item 9: live configuration', () => {
  it('item 9: a static pod manifest edited under --manifests (new key, new path): the new input ships, the old stops after its last acknowledged batch, nothing twice', async () => {
    const t = setup('reload-manifest');
    const pod = path.join(t.manifests, 'kube-apiserver.yaml');
    fs.writeFileSync(pod, manifest([['audit-a', '/var/log/kubernetes/audit.log']]));
    const a1 = t.write('audit.log', 30);
    const agent = startAgent({ args: t.args(['--manifests', t.manifests]) });
    const outA = new SinkReader(t.ws.outDir, 'audit-a');
    const outB = new SinkReader(t.ws.outDir, 'audit-b');
    await waitUntil(() => keysOf(outA.all()).length >= a1.length || undefined, () => `audit-a: ${outA.all().length}/${a1.length}\n${agent.stderrTail()}`, { agent });

    const b1 = t.write('audit2.log', 20); // exists before the edit: read from its start once configured
    swap(pod, manifest([['audit-b', '/var/log/kubernetes/audit2.log']]));
    await waitUntil(logged(agent, /input removed/), () => `the old input stops\n${agent.stderrTail()}`, { agent });
    const b2 = t.write('audit2.log', 20);
    await waitUntil(() => keysOf(outB.all()).length >= b1.length + b2.length || undefined, () => `audit-b: ${outB.all().length}\n${agent.stderrTail()}`, { agent });
    t.write('audit.log', 25); // the removed input's file grows: not shipped
    await new Promise((r) => setTimeout(r, 800));
    await agent.stop();
    expect(keysOf(outA.all()).sort()).toEqual([...a1].sort());
    expect(keysOf(outB.all()).sort()).toEqual([...b1, ...b2].sort());
    expect(agent.warnings().map((l) => l.raw)).toEqual([]);
  });

  it('item 9: SIGHUP re-resolves the env file without a restart and never exits; an invalid new configuration is logged and the running one kept', async () => {
    const t = setup('reload-sighup');
    const env = path.join(t.ws.root, 'sighup.env');
    fs.writeFileSync(env, `aliyun_logs_audit-a=/var/log/kubernetes/audit.log\naliyun_logs_audit-a_product=k8s-audit\n`);
    const a1 = t.write('audit.log', 20);
    // --manifests not given and the env file is watched too: SIGHUP must work on its own, so it is checked by
    // its log line's reason.
    const agent = startAgent({ args: t.args(['--env-file', env]) });
    const outA = new SinkReader(t.ws.outDir, 'audit-a');
    await waitUntil(() => keysOf(outA.all()).length >= a1.length || undefined, () => `audit-a\n${agent.stderrTail()}`, { agent });
    agent.kill('SIGHUP');
    await waitUntil(() => agent.logs.find((l) => l.reason === 'SIGHUP'), () => `a reload for SIGHUP\n${agent.stderrTail()}`, { agent });
    expect(agent.exit).toBeUndefined();
    const a2 = t.write('audit.log', 10);
    await waitUntil(() => keysOf(outA.all()).length >= a1.length + a2.length || undefined, () => `audit-a after SIGHUP\n${agent.stderrTail()}`, { agent });

    fs.writeFileSync(env, `aliyun_logs_audit-a=relative/path.log\n`); // invalid: not an absolute path
    agent.kill('SIGHUP');
    await waitUntil(logged(agent, /invalid/), () => `the invalid configuration is logged\n${agent.stderrTail()}`, { agent });
    const a3 = t.write('audit.log', 10);
    await waitUntil(() => keysOf(outA.all()).length >= a1.length + a2.length + a3.length || undefined, () => `audit-a keeps going\n${agent.stderrTail()}`, { agent });
    await agent.stop();
    expect(keysOf(outA.all()).sort()).toEqual([...a1, ...a2, ...a3].sort());
  });
});
