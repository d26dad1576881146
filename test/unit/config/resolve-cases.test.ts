// Table-driven: every source (env, env file, manifest) through resolveConfig, asserting the exact inputs and the
// exact variables (with origins) named by errors and warnings.

import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { resolveConfig, formatProblem } from '../../../src/config/index.js';
import { ErrorCodes as C } from '../../../src/errors.js';
import { inp, normInput, normProblem, options, pod, rel, tempDir, writeFiles } from './helpers.js';

const AUDIT_KEY = 'audit-c5a1e0b7d3f2c4e6a8b0d2f4e6a8c0b2d';
const M = (file = 'pod.yaml', container = 'app') => `manifest manifests/${file} (pod ns/p, container ${container})`;
const LOG_VOL = { mounts: [{ name: 'logs', mountPath: '/var/log/app' }], volumes: [{ name: 'logs', hostPath: '/srv/app-logs' }] };

interface Case {
  name: string;
  env?: Record<string, string>;
  envFiles?: Record<string, string>;
  manifests?: Record<string, string>;
  hostRoot?: string;
  inputs?: ReturnType<typeof inp>[];
  skipped?: ReturnType<typeof inp>[];
  /** [variable, origin, code] of every error, sorted by variable. */
  errors?: Array<[string, string, string]>;
  warnings?: Array<[string, string, string]>;
}

const cases: Case[] = [
  // ---- process env ----
  {
    name: 'env: a bare main variable gives logtail defaults',
    env: { 'aliyun_logs_my-app': '/var/log/my-app/app.log' },
    inputs: [inp('my-app', '/var/log/my-app/app.log', 'env')],
  },
  {
    name: 'env: every main suffix applied, the others kept verbatim in extra',
    env: {
      aliyun_logs_web: '/var/log/web/access.log',
      aliyun_logs_web_tags: 'team=frontend',
      aliyun_logs_web_product: 'k8s-nginx-ingress',
      aliyun_logs_web_logstore: 'nginx',
      aliyun_logs_web_project: 'k8s-log-c1',
      aliyun_logs_web_jsonfile: 'TRUE',
      aliyun_logs_web_shard: '10',
      aliyun_logs_web_ttl: '3650',
      aliyun_logs_web_logstoremode: 'query',
      aliyun_logs_web_machinegroup: 'mg1,mg2',
      aliyun_logs_web_language: 'en',
      aliyun_logs_web_configtags: '{"a":"b"}',
    },
    inputs: [
      inp('web', '/var/log/web/access.log', 'env', {
        tags: { team: 'frontend' },
        product: 'k8s-nginx-ingress',
        logstore: 'nginx',
        project: 'k8s-log-c1',
        json: true,
        shard: 10,
        ttl: 3650,
        logstoreMode: 'query',
        extra: { machinegroup: 'mg1,mg2', language: 'en', configtags: '{"a":"b"}' },
      }),
    ],
  },
  {
    name: 'env: a tag without "=" has key and value both the value',
    env: { aliyun_logs_a: '/var/log/a/a.log', aliyun_logs_a_tags: 'apiserver' },
    inputs: [inp('a', '/var/log/a/a.log', 'env', { tags: { apiserver: 'apiserver' } })],
  },
  {
    name: 'env: a tag is split at its first "="',
    env: { aliyun_logs_a: '/var/log/a/a.log', aliyun_logs_a_tags: 'k=v=w' },
    inputs: [inp('a', '/var/log/a/a.log', 'env', { tags: { k: 'v=w' } })],
  },
  {
    name: 'env: a trailing "_" makes logtail ignore the variable (warning)',
    env: { aliyun_logs_a: '/var/log/a/a.log', aliyun_logs_a_: '/var/log/other.log' },
    inputs: [inp('a', '/var/log/a/a.log', 'env')],
    warnings: [['aliyun_logs_a_', 'env', C.CONFIG_ENV_NAME]],
  },
  {
    name: 'env: aliyun_logs_my_app alone is key "my" + unknown suffix "app": an error suggesting my-app',
    env: { aliyun_logs_my_app: '/var/log/my-app/app.log' },
    errors: [['aliyun_logs_my_app', 'env', C.CONFIG_ENV_NAME]],
  },
  {
    name: 'env: aliyun_logs_my_app next to aliyun_logs_my is an unknown suffix of "my" (warning)',
    env: { aliyun_logs_my: '/var/log/my/my.log', aliyun_logs_my_app: '/var/log/my-app/app.log' },
    inputs: [inp('my', '/var/log/my/my.log', 'env')],
    warnings: [['aliyun_logs_my_app', 'env', C.CONFIG_ENV_SUFFIX]],
  },
  {
    name: 'env: a key with "_" before a known suffix is a bad key',
    env: { aliyun_logs_my_app_tags: 'a=b' },
    errors: [['aliyun_logs_my_app_tags', 'env', C.CONFIG_ENV_NAME]],
  },
  {
    name: 'env: an uppercase key is an error suggesting the lowercase one',
    env: { aliyun_logs_MyApp: '/var/log/x/x.log' },
    errors: [['aliyun_logs_MyApp', 'env', C.CONFIG_ENV_NAME]],
  },
  {
    name: 'env: an uppercase prefix is ignored by logtail (warning)',
    env: { ALIYUN_LOGS_X: '/var/log/x/x.log' },
    warnings: [['ALIYUN_LOGS_X', 'env', C.CONFIG_ENV_NAME]],
  },
  {
    name: 'env: loong_logs_ wins over aliyun_logs_ for the same name',
    env: { aliyun_logs_a: '/var/log/a/old.log', loong_logs_a: '/var/log/a/new.log', aliyun_logs_a_tags: 'x=y' },
    inputs: [inp('a', '/var/log/a/new.log', 'env', { tags: { x: 'y' } })],
    warnings: [['aliyun_logs_a', 'env', C.CONFIG_ENV_OVERRIDDEN]],
  },
  {
    name: 'env: a glob in the last segment is accepted',
    env: { aliyun_logs_g: '/var/log/app/*.lo?' },
    inputs: [inp('g', '/var/log/app/*.lo?', 'env')],
  },
  {
    name: 'env: a glob in a directory segment is an error',
    env: { aliyun_logs_g: '/var/log/*/app.log' },
    errors: [['aliyun_logs_g', 'env', C.CONFIG_ENV_PATH]],
  },
  {
    name: 'env: relative, empty, directory and root-level paths are errors',
    env: { aliyun_logs_a: 'var/log/a.log', aliyun_logs_b: '', aliyun_logs_c: '/var/log/', aliyun_logs_d: '/d.log' },
    errors: [
      ['aliyun_logs_a', 'env', C.CONFIG_ENV_PATH],
      ['aliyun_logs_b', 'env', C.CONFIG_ENV_PATH],
      ['aliyun_logs_c', 'env', C.CONFIG_ENV_PATH],
      ['aliyun_logs_d', 'env', C.CONFIG_ENV_PATH],
    ],
  },
  {
    name: 'env: an unreplaced ${cluster_id} in a name and {cluster_id} in a value are errors',
    env: {
      'aliyun_logs_audit-${cluster_id}': '/var/log/kubernetes/kubernetes.audit',
      aliyun_logs_b: '/var/log/b/b.log',
      aliyun_logs_b_logstore: 'audit-{cluster_id}',
    },
    inputs: [inp('b', '/var/log/b/b.log', 'env')],
    errors: [
      ['aliyun_logs_audit-${cluster_id}', 'env', C.CONFIG_ENV_PLACEHOLDER],
      ['aliyun_logs_b_logstore', 'env', C.CONFIG_ENV_PLACEHOLDER],
    ],
  },
  {
    name: 'env: shard, ttl and logstoremode out of range are errors naming the range',
    env: { aliyun_logs_a: '/var/log/a/a.log', aliyun_logs_a_shard: '0', aliyun_logs_a_ttl: '3651', aliyun_logs_a_logstoremode: 'fast' },
    inputs: [inp('a', '/var/log/a/a.log', 'env')],
    errors: [
      ['aliyun_logs_a_logstoremode', 'env', C.CONFIG_ENV_VALUE],
      ['aliyun_logs_a_shard', 'env', C.CONFIG_ENV_VALUE],
      ['aliyun_logs_a_ttl', 'env', C.CONFIG_ENV_VALUE],
    ],
  },
  {
    name: 'env: a non-numeric shard is an error',
    env: { aliyun_logs_a: '/var/log/a/a.log', aliyun_logs_a_shard: 'two' },
    inputs: [inp('a', '/var/log/a/a.log', 'env')],
    errors: [['aliyun_logs_a_shard', 'env', C.CONFIG_ENV_VALUE]],
  },
  {
    name: 'env: a suffix variable without its main variable is an error',
    env: { aliyun_logs_audit_tags: 'audit=apiserver' },
    errors: [['aliyun_logs_audit_tags', 'env', C.CONFIG_ENV_ORPHAN]],
  },
  {
    name: 'env: unknown suffixes warn with the closest known one',
    env: { aliyun_logs_a: '/var/log/a/a.log', aliyun_logs_a_tag: 'x=y', aliyun_logs_a_jsonfle: 'true' },
    inputs: [inp('a', '/var/log/a/a.log', 'env')],
    warnings: [
      ['aliyun_logs_a_jsonfle', 'env', C.CONFIG_ENV_SUFFIX],
      ['aliyun_logs_a_tag', 'env', C.CONFIG_ENV_SUFFIX],
    ],
  },
  {
    name: 'env: stdout inputs are reported and skipped with a warning',
    env: { aliyun_logs_s: 'stdout', 'aliyun_logs_e': 'stderr-only' },
    skipped: [inp('e', 'stderr-only', 'env', { stdout: true, hostPath: '' }), inp('s', 'stdout', 'env', { stdout: true, hostPath: '' })],
    warnings: [
      ['aliyun_logs_e', 'env', C.CONFIG_STDOUT_INPUT],
      ['aliyun_logs_s', 'env', C.CONFIG_STDOUT_INPUT],
    ],
  },
  {
    name: 'env: an ACK audit logstore (audit- + 33 chars) is JSON without _jsonfile',
    env: { [`aliyun_logs_${AUDIT_KEY}`]: '/var/log/kubernetes/kubernetes.audit' },
    inputs: [inp(AUDIT_KEY, '/var/log/kubernetes/kubernetes.audit', 'env', { json: true })],
  },
  {
    name: 'env: product k8s-audit is JSON; a jsonfile value other than true/TRUE/false/FALSE is false with a warning',
    env: { aliyun_logs_a: '/var/log/a/a.log', aliyun_logs_a_product: 'k8s-audit', aliyun_logs_b: '/var/log/b/b.log', aliyun_logs_b_jsonfile: 'True' },
    inputs: [inp('a', '/var/log/a/a.log', 'env', { product: 'k8s-audit', json: true }), inp('b', '/var/log/b/b.log', 'env')],
    warnings: [['aliyun_logs_b_jsonfile', 'env', C.CONFIG_ENV_VALUE]],
  },
  {
    name: 'env: TAILSHIP_TAGS adds to every input and wins over the input tag',
    env: { aliyun_logs_a: '/var/log/a/a.log', aliyun_logs_a_tags: 'cluster=mine', TAILSHIP_TAGS: 'cluster=prod, dc=eu1' },
    inputs: [inp('a', '/var/log/a/a.log', 'env', { tags: { cluster: 'prod', dc: 'eu1' } })],
    warnings: [['aliyun_logs_a_tags', 'env', C.CONFIG_ENV_OVERRIDDEN]],
  },
  {
    name: 'env: a reserved tag key is an error',
    env: { aliyun_logs_a: '/var/log/a/a.log', aliyun_logs_a_tags: '__path__=/x' },
    inputs: [inp('a', '/var/log/a/a.log', 'env')],
    errors: [['aliyun_logs_a_tags', 'env', C.CONFIG_ENV_VALUE]],
  },
  {
    name: 'env: --host-root is put in front of the host path, __path__ stays the configured path',
    env: { aliyun_logs_a: '/var/log/a/*.log' },
    hostRoot: '/host/',
    inputs: [inp('a', '/var/log/a/*.log', 'env', { hostPath: '/host/var/log/a/*.log' })],
  },

  // ---- env files ----
  {
    name: 'env file: export, quotes, escapes, comments; origin is file:line',
    envFiles: {
      'case.env': [
        '# audit log of the API server',
        '',
        `export aliyun_logs_${AUDIT_KEY}="/var/log/kubernetes/kubernetes.audit"`,
        `aliyun_logs_${AUDIT_KEY}_tags='audit=apiserver'  # one tag per input`,
        `aliyun_logs_${AUDIT_KEY}_product = k8s-audit`,
        `aliyun_logs_${AUDIT_KEY}_jsonfile=true`,
        'OTHER=ignored',
      ].join('\n'),
    },
    inputs: [
      inp(AUDIT_KEY, '/var/log/kubernetes/kubernetes.audit', 'case.env:3', { tags: { audit: 'apiserver' }, product: 'k8s-audit', json: true }),
    ],
  },
  {
    name: 'env file: an error names file:line',
    envFiles: { 'case.env': 'aliyun_logs_a=/var/log/a/a.log\n\naliyun_logs_a_ttl=0\n' },
    inputs: [inp('a', '/var/log/a/a.log', 'case.env:1')],
    errors: [['aliyun_logs_a_ttl', 'case.env:3', C.CONFIG_ENV_VALUE]],
  },
  {
    name: 'env file: a malformed line is an error naming file:line, its text not echoed',
    envFiles: { 'case.env': 'aliyun_logs_a=/var/log/a/a.log\nSECRET_TOKEN hunter2\naliyun_logs_b="/var/log/b.log\n' },
    inputs: [inp('a', '/var/log/a/a.log', 'case.env:1')],
    errors: [
      ['--env-file', 'case.env:2', C.CONFIG_ENV_FILE],
      ['aliyun_logs_b', 'case.env:3', C.CONFIG_ENV_FILE],
    ],
  },
  {
    name: 'env file: a missing file is an error with the fix',
    envFiles: {},
    env: { TAILSHIP_TEST_MISSING_ENV_FILE: '1' },
    errors: [['--env-file', 'missing.env', C.CONFIG_ENV_FILE]],
  },
  {
    name: 'env file + env: one scope; the process env wins for the same name and suffixes merge',
    envFiles: { 'a.env': 'aliyun_logs_a=/var/log/a/from-file.log\naliyun_logs_a_tags=src=file\n', 'b.env': 'aliyun_logs_a_product=p2\n' },
    env: { aliyun_logs_a: '/var/log/a/from-env.log' },
    inputs: [inp('a', '/var/log/a/from-env.log', 'env', { tags: { src: 'file' }, product: 'p2' })],
    warnings: [['aliyun_logs_a', 'env', C.CONFIG_ENV_OVERRIDDEN]],
  },

  // ---- manifests ----
  {
    name: 'manifest: a container path maps through its mount to the hostPath volume',
    manifests: { 'pod.yaml': pod({ env: [{ name: 'aliyun_logs_app', value: '/var/log/app/app.log' }], ...LOG_VOL }) },
    inputs: [inp('app', '/var/log/app/app.log', M(), { hostPath: '/srv/app-logs/app.log' })],
  },
  {
    name: 'manifest: the longest mountPath wins',
    manifests: {
      'pod.yaml': pod({
        env: [{ name: 'aliyun_logs_app', value: '/var/log/app/x/*.log' }],
        mounts: [
          { name: 'all', mountPath: '/var/log' },
          { name: 'app', mountPath: '/var/log/app/' },
          { name: 'root', mountPath: '/' },
        ],
        volumes: [
          { name: 'all', hostPath: '/h1' },
          { name: 'app', hostPath: '/h2/' },
          { name: 'root', hostPath: '/h0' },
        ],
      }),
    },
    inputs: [inp('app', '/var/log/app/x/*.log', M(), { hostPath: '/h2/x/*.log' })],
  },
  {
    name: 'manifest: a mount matches on a path-segment boundary only',
    manifests: {
      'pod.yaml': pod({
        env: [{ name: 'aliyun_logs_app', value: '/var/log/application/a.log' }],
        mounts: [
          { name: 'all', mountPath: '/var/log' },
          { name: 'app', mountPath: '/var/log/app' },
        ],
        volumes: [
          { name: 'all', hostPath: '/h1' },
          { name: 'app', hostPath: '/h2' },
        ],
      }),
    },
    inputs: [inp('app', '/var/log/application/a.log', M(), { hostPath: '/h1/application/a.log' })],
  },
  {
    name: 'manifest: subPath is honoured (also for a mount of the file itself)',
    manifests: {
      'pod.yaml': pod({
        env: [
          { name: 'aliyun_logs_a', value: '/var/log/app/a.log' },
          { name: 'aliyun_logs_b', value: '/etc/b.log' },
        ],
        mounts: [
          { name: 'data', mountPath: '/var/log/app', subPath: 'pods/a' },
          { name: 'data', mountPath: '/etc/b.log', subPath: 'files/b.log' },
        ],
        volumes: [{ name: 'data', hostPath: '/data' }],
      }),
    },
    inputs: [inp('a', '/var/log/app/a.log', M(), { hostPath: '/data/pods/a/a.log' }), inp('b', '/etc/b.log', M(), { hostPath: '/data/files/b.log' })],
  },
  {
    name: 'manifest: a path no mount covers, and one on an emptyDir, are errors naming manifest and container',
    manifests: {
      'pod.yaml': pod({
        env: [
          { name: 'aliyun_logs_a', value: '/opt/app/a.log' },
          { name: 'aliyun_logs_b', value: '/cache/b.log' },
        ],
        mounts: [{ name: 'cache', mountPath: '/cache' }],
        volumes: [{ name: 'cache', emptyDir: {} }],
      }),
    },
    errors: [
      ['aliyun_logs_a', M(), C.CONFIG_MANIFEST_MOUNT],
      ['aliyun_logs_b', M(), C.CONFIG_MANIFEST_MOUNT],
    ],
  },
  {
    name: 'manifest: valueFrom is an error for the path, a warning for a suffix',
    manifests: {
      'pod.yaml': pod({
        env: [
          { name: 'aliyun_logs_a', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } },
          { name: 'aliyun_logs_a_tags', value: 'x=y' },
          { name: 'aliyun_logs_app', value: '/var/log/app/app.log' },
          { name: 'aliyun_logs_app_project', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        ],
        ...LOG_VOL,
      }),
    },
    inputs: [inp('app', '/var/log/app/app.log', M(), { hostPath: '/srv/app-logs/app.log' })],
    errors: [['aliyun_logs_a', M(), C.CONFIG_ENV_PATH]],
    warnings: [['aliyun_logs_app_project', M(), C.CONFIG_ENV_VALUE]],
  },
  {
    name: 'manifest: initContainers are read; --host-root goes in front',
    hostRoot: '/host',
    manifests: { 'init.yml': pod({ init: true, container: 'prep', env: [{ name: 'aliyun_logs_prep', value: '/var/log/app/prep.log' }], ...LOG_VOL }) },
    inputs: [inp('prep', '/var/log/app/prep.log', M('init.yml', 'prep'), { hostPath: '/host/srv/app-logs/prep.log' })],
  },
  {
    name: 'manifest: _dockerfile=false means the path is already a host path',
    manifests: {
      'pod.yaml': pod({ env: [
        { name: 'aliyun_logs_h', value: '/var/log/syslog' },
        { name: 'aliyun_logs_h_dockerfile', value: 'false' },
      ] }),
    },
    inputs: [inp('h', '/var/log/syslog', M(), { extra: { dockerfile: 'false' } })],
  },
  {
    name: 'manifest: a non-string env value is an error (Kubernetes rejects it)',
    manifests: { 'pod.yaml': pod({ env: [{ name: 'aliyun_logs_a', value: '/var/log/app/a.log' }, { name: 'aliyun_logs_a_jsonfile', value: true }], ...LOG_VOL }) },
    inputs: [inp('a', '/var/log/app/a.log', M(), { hostPath: '/srv/app-logs/a.log' })],
    errors: [['aliyun_logs_a_jsonfile', M(), C.CONFIG_ENV_VALUE]],
  },
  {
    name: 'manifest: invalid YAML is an error naming file and line',
    manifests: { 'bad.yaml': 'apiVersion: v1\nkind: Pod\nspec:\n  containers: [\n- name: x\n' },
    errors: [['--manifests', 'manifests/bad.yaml:5', C.CONFIG_MANIFEST]],
  },
  {
    name: 'manifest: several YAML documents; only v1 Pods are read',
    manifests: {
      'multi.yaml': [
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {aliyun_logs_x: /var/log/x.log}',
        pod({ kind: 'Deployment', env: [{ name: 'aliyun_logs_d', value: '/var/log/app/d.log' }], ...LOG_VOL }),
        pod({ env: [{ name: 'aliyun_logs_m', value: '/var/log/app/m.log' }], ...LOG_VOL }),
      ].join('\n---\n'),
      'README.txt': 'not a manifest: aliyun_logs_t=/var/log/t.log',
    },
    inputs: [inp('m', '/var/log/app/m.log', M('multi.yaml'), { hostPath: '/srv/app-logs/m.log' })],
  },
  {
    name: 'manifest: a JSON file with two concatenated documents',
    manifests: {
      'pods.json': [
        JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } }),
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'p', namespace: 'ns' },
          spec: {
            containers: [{ name: 'app', env: [{ name: 'aliyun_logs_j', value: '/var/log/app/j.log' }], volumeMounts: LOG_VOL.mounts }],
            volumes: [{ name: 'logs', hostPath: { path: '/srv/app-logs' } }],
          },
        }),
      ].join('\n'),
    },
    inputs: [inp('j', '/var/log/app/j.log', M('pods.json'), { hostPath: '/srv/app-logs/j.log' })],
  },
  {
    name: 'env + manifest reading the same host file is an error (every line would ship twice)',
    env: { aliyun_logs_a: '/srv/app-logs/app.log' },
    manifests: { 'pod.yaml': pod({ env: [{ name: 'aliyun_logs_b', value: '/var/log/app/app.log' }], ...LOG_VOL }) },
    inputs: [inp('a', '/srv/app-logs/app.log', 'env')],
    errors: [['aliyun_logs_b', M(), C.CONFIG_DUPLICATE_INPUT]],
  },
  {
    name: 'manifest: the same key in two containers of one pod gives two inputs (each container is its own scope)',
    manifests: {
      'pod.yaml': (() => {
        return [
          'apiVersion: v1',
          'kind: Pod',
          'metadata: {name: p, namespace: ns}',
          'spec:',
          '  containers:',
          '  - name: one',
          '    env: [{name: aliyun_logs_a, value: /var/log/app/one.log}, {name: aliyun_logs_a_tags, value: c=one}]',
          '    volumeMounts: [{name: logs, mountPath: /var/log/app}]',
          '  - name: two',
          '    env: [{name: aliyun_logs_a, value: /var/log/app/two.log}]',
          '    volumeMounts: [{name: logs, mountPath: /var/log/app}]',
          '  volumes: [{name: logs, hostPath: {path: /srv/app-logs}}]',
        ].join('\n');
      })(),
    },
    inputs: [
      inp('a', '/var/log/app/one.log', M('pod.yaml', 'one'), { hostPath: '/srv/app-logs/one.log', tags: { c: 'one' } }),
      inp('a', '/var/log/app/two.log', M('pod.yaml', 'two'), { hostPath: '/srv/app-logs/two.log' }),
    ],
  },
];

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('resolveConfig: all three sources', () => {
  test.each(cases)('$name', async (c) => {
    const dir = await tempDir();
    dirs.push(dir);
    const envFiles = c.envFiles ? await writeFiles(dir, c.envFiles) : [];
    if (c.env?.TAILSHIP_TEST_MISSING_ENV_FILE) envFiles.push(path.join(dir, 'missing.env'));
    let manifests: string | undefined;
    if (c.manifests) {
      manifests = path.join(dir, 'manifests');
      await writeFiles(manifests, c.manifests);
    }
    const r = await resolveConfig(options({ envFiles, manifests, hostRoot: c.hostRoot ?? '' }), c.env ?? {});

    expect(r.inputs.map((i) => normInput(dir, i))).toEqual(c.inputs ?? []);
    expect(r.skipped.map((i) => normInput(dir, i))).toEqual(c.skipped ?? []);
    const byVar = (a: { variable: string; origin: string }, b: { variable: string; origin: string }) => a.variable.localeCompare(b.variable);
    const expected = (list: Case['errors']) => (list ?? []).map(([variable, origin, code]) => ({ variable, origin, code }));
    expect(r.problems.map((p) => normProblem(dir, p)).sort(byVar)).toEqual(expected(c.errors));
    expect(r.warnings.map((p) => normProblem(dir, p)).sort(byVar)).toEqual(expected(c.warnings));

    const text = [...r.problems, ...r.warnings].map((p) => rel(dir, formatProblem(p))).join('\n');
    // One line per problem, always with a fix; never an env file's raw text (it may hold secrets).
    for (const p of [...r.problems, ...r.warnings]) {
      expect(formatProblem(p)).not.toContain('\n');
      expect(p.fix.length).toBeGreaterThan(0);
    }
    expect(text).not.toContain('hunter2');
  });
});

test('there are at least 25 cases and they cover every source', () => {
  expect(cases.length).toBeGreaterThanOrEqual(25);
  expect(cases.filter((c) => c.envFiles).length).toBeGreaterThanOrEqual(4);
  expect(cases.filter((c) => c.manifests).length).toBeGreaterThanOrEqual(8);
});
