// The securityContext reasoning of daemonset.yaml, checked on this kernel: with exactly the user and capabilities
// the DaemonSet gives its container, a real node process can read a root-owned 0600 audit log in a root-owned
// 0700 directory and write checkpoints under the state dir. setpriv(1) applies the settings the way the container
// runtime does: bounding set = the capability list (uid 0 then holds exactly those), no ambient capabilities,
// no_new_privs when allowPrivilegeEscalation is false.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDeployment } from './k8s.js';

const { podSpec, container } = loadDeployment();

interface Ctx {
  user: number;
  group: number;
  caps: string[];
  noNewPrivs: boolean;
}

const deployed: Ctx = {
  user: container.securityContext?.runAsUser ?? podSpec.securityContext?.runAsUser,
  group: container.securityContext?.runAsGroup ?? podSpec.securityContext?.runAsGroup,
  caps: container.securityContext?.capabilities?.add ?? [],
  noNewPrivs: container.securityContext?.allowPrivilegeEscalation === false,
};

// What the child does, as tailship does it: list the log dir, open and read the audit log, write a checkpoint
// by temp file + fsync + rename in the state dir. Prints one JSON result.
const probe = `
const fs = require('node:fs');
const [logDir, stateDir] = process.argv.slice(1);
const out = {};
const attempt = (name, fn) => { try { fn(); out[name] = 'ok'; } catch (e) { out[name] = e.code || String(e); } };
attempt('list', () => fs.readdirSync(logDir));
attempt('read', () => { if (!fs.readFileSync(logDir + '/kubernetes.audit', 'utf8').includes('auditID')) throw new Error('bad content'); });
attempt('checkpoint', () => {
  const fd = fs.openSync(stateDir + '/checkpoints.json.tmp', 'w', 0o600);
  fs.writeSync(fd, '{}'); fs.fsyncSync(fd); fs.closeSync(fd);
  fs.renameSync(stateDir + '/checkpoints.json.tmp', stateDir + '/checkpoints.json');
});
out.capEff = fs.readFileSync('/proc/self/status', 'utf8').match(/CapEff:\\s*(\\w+)/)[1];
process.stdout.write(JSON.stringify(out));
`;

function runAs(ctx: Ctx, logDir: string, stateDir: string): Record<string, string> {
  const args = [
    `--reuid=${ctx.user}`,
    `--regid=${ctx.group}`,
    '--clear-groups',
    `--bounding-set=-all${ctx.caps.map((c) => `,+${c.toLowerCase()}`).join('')}`,
    '--inh-caps=-all',
    ...(ctx.noNewPrivs ? ['--no-new-privs'] : []),
    '--',
    process.execPath,
    '-e',
    probe,
    logDir,
    stateDir,
  ];
  const r = spawnSync('setpriv', args, { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`setpriv failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, string>;
}

// Needs root (to create root-owned files and change identity) and a setpriv that may shrink the bounding set.
const usable =
  process.getuid?.() === 0 && spawnSync('setpriv', ['--bounding-set=-all', '--', 'true']).status === 0;

describe.skipIf(!usable)('daemonset.yaml securityContext on a real kernel (needs root and setpriv)', () => {
  let root: string;
  let logDir: string;
  let stateDir: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'tailship-perm-'));
    chmodSync(root, 0o755); // traversable by the non-root counter-example below
    // As kube-apiserver >= 1.25 makes them: directory 0700, file 0600, both root's.
    logDir = join(root, 'log');
    mkdirSync(logDir, { mode: 0o700 });
    writeFileSync(join(logDir, 'kubernetes.audit'), '{"kind":"Event","auditID":"a1"}\n', { mode: 0o600 });
    // As the kubelet makes a DirectoryOrCreate hostPath: 0755 root.
    stateDir = join(root, 'state');
    mkdirSync(stateDir, { mode: 0o755 });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('the deployed settings (uid 0, no capabilities, no_new_privs) read the 0600 log and write state', () => {
    expect(deployed).toEqual({ user: 0, group: 0, caps: [], noNewPrivs: true });
    expect(runAs(deployed, logDir, stateDir)).toEqual({
      list: 'ok',
      read: 'ok',
      checkpoint: 'ok',
      capEff: '0000000000000000', // really no capability: the access above is by owner match alone
    });
  });

  it('owner match is what grants it: the same settings cannot read a 0600 file of another uid', () => {
    const other = join(root, 'rootless');
    mkdirSync(other, { mode: 0o700 });
    writeFileSync(join(other, 'kubernetes.audit'), '{"auditID":"a2"}\n', { mode: 0o600 });
    chownSync(join(other, 'kubernetes.audit'), 65532, 65532);
    chownSync(other, 65532, 65532);
    expect(runAs(deployed, other, stateDir)).toMatchObject({ list: 'EACCES', read: 'EACCES' });
    // ... which is the rootless-apiserver case the YAML comment names: add DAC_READ_SEARCH, and it works.
    expect(runAs({ ...deployed, caps: ['DAC_READ_SEARCH'] }, other, stateDir)).toMatchObject({ list: 'ok', read: 'ok' });
  });

  it('a non-root uid with DAC_READ_SEARCH (no ambient capabilities, as Kubernetes runs it) cannot read it', () => {
    const nonRoot: Ctx = { user: 65532, group: 65532, caps: ['DAC_READ_SEARCH'], noNewPrivs: true };
    expect(runAs(nonRoot, logDir, stateDir)).toMatchObject({ list: 'EACCES', read: 'EACCES', capEff: '0000000000000000' });
  });
});
