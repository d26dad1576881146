// `tailship run` as the DaemonSet starts it: the container's env and args, with the privileges of its
// securityContext (via setpriv) and its read-only root filesystem (a private mount namespace in which `/` is
// read-only and only the writable volumeMounts are not) when this machine allows it, against a node laid out in a temp dir the way
// kube-apiserver leaves it (audit log root 0600 in a 0700 dir, the ACK manifest in the static pod dir). The
// probes' paths answer on the probes' port, events reach the default file store under the state dir, and
// SIGTERM ends the agent with exit 0.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerEnv, loadDeployment, rebase, repoRoot } from './k8s.js';

const { daemonSet, podSpec, container } = loadDeployment();
const mountPaths = (container.volumeMounts ?? []).map((m) => m.mountPath);
const NODE = 'cp-node-2';
const KEY = 'audit-c5a1e0b7d3f2c4e6a8b0d2f4e6a8c0b2d';
const AUDIT = '/var/log/kubernetes/kubernetes.audit'; // the path the ACK manifest names
const sample = join(repoRoot, 'test/fixtures/sample/var/log/kubernetes'); // real-shaped audit lines, active + backup

const sc = container.securityContext ?? {};
const asDeployed = [
  `--reuid=${sc.runAsUser ?? podSpec.securityContext?.runAsUser}`,
  `--regid=${sc.runAsGroup ?? podSpec.securityContext?.runAsGroup}`,
  '--clear-groups',
  `--bounding-set=-all${(sc.capabilities?.add ?? []).map((c) => `,+${c.toLowerCase()}`).join('')}`,
  '--inh-caps=-all',
  ...(sc.allowPrivilegeEscalation === false ? ['--no-new-privs'] : []),
  '--',
];
const withPrivileges =
  process.getuid?.() === 0 && spawnSync('setpriv', ['--bounding-set=-all', '--', 'true']).status === 0;
const withReadOnlyRoot =
  withPrivileges &&
  sc.readOnlyRootFilesystem === true &&
  spawnSync('unshare', ['--mount', '--propagation', 'private', '--', 'true']).status === 0;

/** argv, wrapped so that it runs with the container's privileges and (if possible) a read-only root. */
function confined(argv: string[], root: string): [string, string[]] {
  if (!withPrivileges) return [argv[0]!, argv.slice(1)];
  if (!withReadOnlyRoot) return ['setpriv', [...asDeployed, ...argv]];
  const writable = (container.volumeMounts ?? []).filter((m) => !m.readOnly).map((m) => join(root, m.mountPath));
  // Private propagation: the remount is invisible outside this namespace. Bind mounts first, so that they keep
  // their own (writable) flags when `/` becomes read-only; then the mount tools are done and privileges drop.
  const script = [...writable.map((d) => `mount --bind '${d}' '${d}'`), 'mount -o remount,bind,ro /', 'exec "$@"'].join(' && ');
  return ['unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', 'setpriv', ...asDeployed, ...argv]];
}

let root: string; // stands for the node's `/`
let agent: ChildProcess;
let stderr = '';
let exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
let port = 0;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tailship-dsrun-'));
  for (const mp of mountPaths) mkdirSync(join(root, mp), { recursive: true });
  copyFileSync(join(repoRoot, 'test/unit/deploy/fixtures/ack-registered-kube-apiserver.yaml'), join(root, '/etc/kubernetes/manifests/kube-apiserver.yaml'));
  // As kube-apiserver leaves them: directory 0700, files 0600, root's; one rotated backup next to the active file.
  const logDir = join(root, '/var/log/kubernetes');
  for (const f of readdirSync(sample)) {
    copyFileSync(join(sample, f), join(logDir, f));
    chmodSync(join(logDir, f), 0o600);
  }
  chmodSync(logDir, 0o700);

  const env = containerEnv(container, { nodeName: NODE });
  for (const [k, v] of Object.entries(env)) env[k] = rebase(v, mountPaths, root);
  // The two departures from the container, both forced by running on a shared test machine: the host's `/` is
  // `root` here, and the listen port is picked by the kernel instead of the fixed 2020.
  env.TAILSHIP_HOST_ROOT = root;
  env.TAILSHIP_LISTEN = '127.0.0.1:0';
  const argv = [process.execPath, join(repoRoot, 'dist/cli.js'), ...(container.args ?? [])];
  const [cmd, args] = confined(argv, root);
  agent = spawn(cmd, args, { cwd: root, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
  agent.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  agent.stdout!.resume();
  exit = new Promise((resolve) => agent.on('exit', (code, signal) => resolve({ code, signal })));
  const m = await new Promise<RegExpExecArray>((resolve, reject) => {
    const check = () => {
      const found = /"listen":"127\.0\.0\.1:(\d+)"/.exec(stderr);
      if (found) resolve(found);
    };
    agent.stderr!.on('data', check);
    void exit.then((e) => reject(new Error(`agent exited ${JSON.stringify(e)} before listening:\n${stderr}`)));
  });
  port = Number(m[1]);
});

afterAll(async () => {
  if (agent && agent.exitCode === null && agent.signalCode === null) {
    agent.kill('SIGKILL');
    await exit;
  }
  rmSync(root, { recursive: true, force: true });
});

const get = async (path: string) => {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, body: await r.text() };
};

function storeLines(): any[] {
  const f = join(root, '/var/lib/tailship/store', `${KEY}.ndjson`);
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

const confinement = withReadOnlyRoot
  ? ', uid 0 without capabilities, read-only root'
  : withPrivileges
    ? ', uid 0 without capabilities'
    : '';
describe(`tailship run with the DaemonSet's env and args${confinement} (needs dist/cli.js)`, () => {
  it('answers the liveness and readiness paths, and the Prometheus scrape path, on the probed port', async () => {
    expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect((await get(container.livenessProbe!.httpGet!.path!)).status).toBe(200);
    await expect.poll(async () => (await get(container.readinessProbe!.httpGet!.path!)).status, { timeout: 20_000 }).toBe(200);
    const scrape = await get(daemonSet.spec.template.metadata.annotations['prometheus.io/path']);
    expect(scrape.status).toBe(200);
    expect(scrape.body).toMatch(/^# TYPE tailship_events_shipped_total counter$/m);
  });

  it('ships every line of the active audit file to the file store under the state dir, tagged for this node', async () => {
    const expected = readFileSync(join(sample, 'kubernetes.audit'), 'utf8').split('\n').filter(Boolean).length;
    await expect.poll(() => storeLines().length, { timeout: 30_000 }).toBe(expected);
    // No --backfill in the DaemonSet: the rotated backup present at first start is not read.
    for (const log of storeLines()) {
      expect(log.__tag__).toMatchObject({ audit: 'apiserver', __hostname__: NODE, __path__: AUDIT });
      expect(log.kind).toBe('Event');
    }
  });

  it('stops on SIGTERM with exit 0 and leaves its checkpoints on the node', async () => {
    agent.kill('SIGTERM');
    const e = await exit;
    expect(e, stderr.slice(-2000)).toEqual({ code: 0, signal: null });
    const state = readdirSync(join(root, '/var/lib/tailship')).filter((f) => f !== 'store');
    expect(state.length, `state dir holds checkpoints: ${state.join(', ')}`).toBeGreaterThan(0);
    expect(stderr).not.toMatch(/EACCES|EPERM|EROFS/);
  });
});
