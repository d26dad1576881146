// The env and args that daemonset.yaml gives its container are ones tailship accepts: `tailship config` is run
// with exactly them (the kubelet's part played here: downward API, optional Secret, and each mount path
// rebased into a temp dir laid out like the node), against the ACK apiserver manifest of the seed.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerEnv, daemonsetPath, loadDeployment, rebase, repoRoot } from './k8s.js';

const { container, volumes } = loadDeployment();
const mountPaths = (container.volumeMounts ?? []).map((m) => m.mountPath);
const cli = join(repoRoot, 'dist', 'cli.js');
const NODE = 'cp-node-1';
const CLUSTER_ID = 'c5a1e0b7d3f2c4e6a8b0d2f4e6a8c0b2d';
const KEY = `audit-${CLUSTER_ID}`;

let root: string; // stands for the node's `/`

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tailship-ds-'));
  for (const mp of mountPaths) mkdirSync(join(root, mp), { recursive: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function manifestsDir(): string {
  return join(root, '/etc/kubernetes/manifests');
}

/** Run `tailship config` the way the container would run `tailship run`, mount paths rebased under `root`. */
function configWithDeployedEnv(opts: { secrets?: Record<string, Record<string, string>>; sink?: string } = {}) {
  const env = containerEnv(container, { nodeName: NODE, ...(opts.secrets ? { secrets: opts.secrets } : {}) });
  if (opts.sink !== undefined) env.TAILSHIP_SINK = opts.sink;
  for (const [k, v] of Object.entries(env)) env[k] = rebase(v, mountPaths, root);
  const [command, ...rest] = (container.args ?? []).map((a) => rebase(a, mountPaths, root));
  expect(command).toBe('run');
  const r = spawnSync(process.execPath, [cli, 'config', ...rest], {
    encoding: 'utf8',
    timeout: 30_000,
    cwd: root,
    // Only what the container has: no aliyun_logs_* or TAILSHIP_* leaking in from the test runner.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
  });
  return { ...r, env };
}

function parse(stdout: string): any {
  try {
    return JSON.parse(stdout);
  } catch {
    throw new Error(`tailship config did not print JSON: ${stdout.slice(0, 500)}`);
  }
}

describe('tailship config with the DaemonSet container env (needs dist/cli.js)', () => {
  it('resolves the ACK audit input from the static pod manifests, exit 0', () => {
    copyFileSync(join(repoRoot, 'test/unit/deploy/fixtures/ack-registered-kube-apiserver.yaml'), join(manifestsDir(), 'kube-apiserver.yaml'));
    const r = configWithDeployedEnv();
    expect(r.status, r.stderr).toBe(0);
    const out = parse(r.stdout);
    expect(out.valid).toBe(true);
    expect(out.errors).toEqual([]);
    expect(out.hostname).toBe(NODE); // NODE_NAME from the downward API
    expect(out.options).toMatchObject({
      manifests: join(root, '/etc/kubernetes/manifests'),
      stateDir: join(root, '/var/lib/tailship'),
      sink: `file:${join(root, '/var/lib/tailship/store')}`,
      listen: '[::]:2020',
      hostRoot: '',
      shutdownGrace: 20_000,
    });
    expect(out.inputs).toHaveLength(1);
    expect(out.inputs[0]).toMatchObject({
      key: KEY,
      path: '/var/log/kubernetes/kubernetes.audit',
      hostPath: '/var/log/kubernetes/kubernetes.audit',
      tags: { audit: 'apiserver' },
      product: 'k8s-audit',
      json: true,
      logstore: KEY,
    });
  });

  it('every resolved host path is readable in the container: under a read-only mount of that same host path', () => {
    copyFileSync(join(repoRoot, 'test/unit/deploy/fixtures/ack-registered-kube-apiserver.yaml'), join(manifestsDir(), 'kube-apiserver.yaml'));
    const out = parse(configWithDeployedEnv().stdout);
    expect(out.inputs.length).toBeGreaterThan(0);
    for (const input of out.inputs as { hostPath: string }[]) {
      // The container sees host path P at mountPath + (P - hostPath.path); the DaemonSet keeps those equal.
      const covering = (container.volumeMounts ?? [])
        .map((m) => ({ m, v: volumes.find((v) => v.name === m.name) }))
        .filter(({ v }) => v?.hostPath && (input.hostPath === v.hostPath.path || input.hostPath.startsWith(`${v.hostPath.path}/`)))
        .sort((a, b) => b.v!.hostPath!.path.length - a.v!.hostPath!.path.length)[0];
      expect(covering, `a DaemonSet hostPath volume covering ${input.hostPath}`).toBeDefined();
      expect(covering!.m.mountPath).toBe(covering!.v!.hostPath!.path);
      expect(covering!.m.readOnly).toBe(true);
    }
  });

  it('accepts the commented SLS alternative with credentials from the Secret, and never prints the secret', () => {
    copyFileSync(join(repoRoot, 'test/unit/deploy/fixtures/ack-registered-kube-apiserver.yaml'), join(manifestsDir(), 'kube-apiserver.yaml'));
    const sls = /^\s*#\s*value: (sls:\/\/\S+)$/m.exec(readFileSync(daemonsetPath, 'utf8'))?.[1];
    expect(sls, 'the SLS example in daemonset.yaml').toBeDefined();
    const secret = 'Tailship-Test-Secret-9f8e7d6c5b4a';
    const r = configWithDeployedEnv({
      sink: sls!.replace('<cluster-id>', CLUSTER_ID),
      secrets: { 'tailship-sls': { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI-test-id', ALIBABA_CLOUD_ACCESS_KEY_SECRET: secret } },
    });
    expect(r.status, r.stderr).toBe(0);
    const out = parse(r.stdout);
    expect(out.options.sink).toMatch(/^sls:\/\/cn-hangzhou-intranet\.log\.aliyuncs\.com\?project=k8s-log-/);
    expect(out.environment.ALIBABA_CLOUD_ACCESS_KEY_SECRET).toBe('***');
    expect(r.stdout + r.stderr).not.toContain(secret);
  });

  it('with no apiserver manifest carrying aliyun_logs_*: exit 0 with no input, or exit 2 saying how to add one', () => {
    rmSync(join(manifestsDir(), 'kube-apiserver.yaml'), { force: true });
    const r = configWithDeployedEnv();
    expect([0, 2], r.stderr).toContain(r.status);
    if (r.status === 0) expect(parse(r.stdout).inputs).toEqual([]);
    else expect(r.stderr).toMatch(/aliyun_logs_/);
  });
});
