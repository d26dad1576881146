// The real static pod manifests in test/fixtures/manifests (see PROVENANCE.md there), and path mapping details.

import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { resolveConfig } from '../../../src/config/index.js';
import { loadManifests, mapContainerPath, parseManifestText } from '../../../src/config/manifests.js';
import { options } from './helpers.js';
import { ErrorCodes } from '../../../src/errors.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/manifests', import.meta.url));
const ACK = path.join(FIXTURES, 'ack-registered-kube-apiserver.yaml');

describe('real manifests', () => {
  test('the ACK registered-cluster manifest resolves to exactly the audit input; the others to nothing', async () => {
    const r = await resolveConfig(options({ manifests: FIXTURES }), {});
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.skipped).toEqual([]);
    expect(r.inputs).toEqual([
      {
        key: 'audit-c5a1e0b7d3f2c4e6a8b0d2f4e6a8c0b2d',
        origin: { kind: 'manifest', file: ACK, pod: 'kube-system/kube-apiserver', container: 'kube-apiserver' },
        path: '/var/log/kubernetes/kubernetes.audit',
        hostPath: '/var/log/kubernetes/kubernetes.audit',
        stdout: false,
        tags: { audit: 'apiserver' },
        product: 'k8s-audit',
        json: true,
        logstore: 'audit-c5a1e0b7d3f2c4e6a8b0d2f4e6a8c0b2d',
        shard: 2,
        ttl: 90,
        logstoreMode: 'standard',
        extra: {},
      },
    ]);
  });

  test('every other fixture on its own: no input, no error, no warning', async () => {
    const files = (await readdir(FIXTURES)).filter((f) => f.endsWith('.yaml') && f !== path.basename(ACK));
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const f of files) {
      const { docs, problems } = parseManifestText((await import('node:fs')).readFileSync(path.join(FIXTURES, f), 'utf8'), f);
      expect(problems, f).toEqual([]);
      expect(docs.length, f).toBe(1);
    }
    const r = await loadManifests(FIXTURES, { hostRoot: '/host', globalTags: { node: 'cp-1' } });
    expect(r.inputs.map((i) => [i.hostPath, i.tags])).toEqual([['/host/var/log/kubernetes/kubernetes.audit', { audit: 'apiserver', node: 'cp-1' }]]);
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([]);
  });

  test('a missing manifests directory is a problem with the fix', async () => {
    const r = await resolveConfig(options({ manifests: path.join(FIXTURES, 'nope') }), {});
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ code: ErrorCodes.CONFIG_MANIFEST, variable: '--manifests' });
    expect(r.problems[0]!.fix).toBeTruthy();
  });
});

describe('mapContainerPath', () => {
  const vols = [
    { name: 'a', hostPath: { path: '/ha' } },
    { name: 'b', hostPath: { path: '/hb/' } },
    { name: 'cm', configMap: { name: 'x' } },
  ];
  test.each([
    ['/var/log/x.log', [{ name: 'a', mountPath: '/var/log' }], '/ha/x.log'],
    ['/var/log/x.log', [{ name: 'a', mountPath: '/var/log/' }], '/ha/x.log'],
    ['/var/log/x.log', [{ name: 'a', mountPath: '/' }], '/ha/var/log/x.log'],
    ['/var/log/x.log', [{ name: 'a', mountPath: '/var/log/x.log' }], '/ha'],
    ['/var/log/sub/x.log', [{ name: 'a', mountPath: '/var' }, { name: 'b', mountPath: '/var/log' }], '/hb/sub/x.log'],
    ['/var/log/x.log', [{ name: 'b', mountPath: '/var/log', subPath: 'k8s/logs' }], '/hb/k8s/logs/x.log'],
    ['/var/log/*.log', [{ name: 'a', mountPath: '/var/log' }], '/ha/*.log'],
  ])('%s via %j → %s', (p, mounts, host) => {
    expect(mapContainerPath(p, mounts, vols)).toEqual({ hostPath: host });
  });

  test.each([
    ['/var/log/x.log', [], 'no volumeMount'],
    ['/var/log/x.log', [{ name: 'a', mountPath: '/var/lo' }], 'no volumeMount'],
    ['/var/log/x.log', [{ name: 'missing', mountPath: '/var/log' }], 'not defined in spec.volumes'],
    ['/var/log/x.log', [{ name: 'cm', mountPath: '/var/log' }], 'configMap volume, not a hostPath'],
    ['/var/log/x.log', [{ name: 'a', mountPath: '/var/log', subPathExpr: '$(POD)' }], 'subPathExpr'],
    ['/var/log/x.log', [{ name: 'a', mountPath: '/var/log', subPath: '../etc' }], '".."'],
  ])('%s via %j is an error (%s), with a fix', (p, mounts) => {
    const r = mapContainerPath(p, mounts, vols);
    expect(r).not.toHaveProperty('hostPath');
    expect('fix' in r && r.fix).toBeTruthy();
  });
});

test('invalid YAML and invalid JSON name the position', () => {
  const y = parseManifestText('a: 1\nb: [2\n', 'm.yaml');
  expect(y.problems).toHaveLength(1);
  expect(y.problems[0]!.origin).toMatchObject({ kind: 'file', file: 'm.yaml' });
  expect((y.problems[0]!.origin as { line: number }).line).toBeGreaterThan(0);
  expect(y.problems[0]!.code).toBe(ErrorCodes.CONFIG_MANIFEST);

  const j = parseManifestText('{"kind": "Pod",\n "spec": [1,,2]}', 'm.json');
  expect(j.problems).toHaveLength(1);
  expect(j.problems[0]!.origin).toEqual({ kind: 'file', file: 'm.json', line: 2 });
  expect(j.problems[0]!.code).toBe(ErrorCodes.CONFIG_MANIFEST);
});

test('a kind: List of pods is read item by item', async () => {
  const { writeFiles, tempDir } = await import('./helpers.js');
  const dir = await tempDir();
  const pod = (n: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: n },
    spec: { containers: [{ name: 'c', env: [{ name: `aliyun_logs_${n}`, value: `/var/log/${n}/x.log` }, { name: `aliyun_logs_${n}_dockerfile`, value: 'FALSE' }] }] },
  });
  await writeFiles(dir, { 'list.json': JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [pod('one'), pod('two')] }) });
  const r = await loadManifests(dir, { hostRoot: '', globalTags: {} });
  expect(r.problems).toEqual([]);
  expect(r.inputs.map((i) => [i.key, i.hostPath, i.origin])).toEqual([
    ['one', '/var/log/one/x.log', { kind: 'manifest', file: path.join(dir, 'list.json'), pod: 'one', container: 'c' }],
    ['two', '/var/log/two/x.log', { kind: 'manifest', file: path.join(dir, 'list.json'), pod: 'two', container: 'c' }],
  ]);
});
