import { expect, test } from 'vitest';
import { describeConfig, formatProblem, NO_INPUT_HELP, resolveConfig } from '../../../src/config/index.js';
import { options } from './helpers.js';

test('describeConfig: inputs with origin and host path, skipped, warnings, secrets masked', async () => {
  const env = {
    'aliyun_logs_audit-key': '/var/log/kubernetes/kubernetes.audit',
    'aliyun_logs_audit-key_product': 'k8s-audit',
    'aliyun_logs_audit-key_machinegroup': 'masters',
    aliyun_logs_out: 'stdout',
    aliyun_logs_x_tag: 'a',
    ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIexample',
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'topsecret',
    TAILSHIP_HTTP_AUTHORIZATION: 'Bearer abc',
    TAILSHIP_SINK: 'https://u:pw@h/x?header.X-Token=zzz',
    NODE_NAME: 'cp-1',
    HOME: '/root',
  };
  const opts = options({ sink: env.TAILSHIP_SINK });
  const resolved = await resolveConfig(opts, env);
  const out = describeConfig(opts, resolved, env) as Record<string, unknown>;
  const text = JSON.stringify(out);
  for (const secret of ['LTAIexample', 'topsecret', 'Bearer abc', 'pw@', 'zzz']) expect(text).not.toContain(secret);

  expect(out).toMatchObject({
    valid: false,
    hostname: 'cp-1',
    options: { sink: 'https://***@h/x?header.X-Token=***' },
    environment: {
      ALIBABA_CLOUD_ACCESS_KEY_ID: '***',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: '***',
      TAILSHIP_HTTP_AUTHORIZATION: '***',
      TAILSHIP_SINK: 'https://***@h/x?header.X-Token=***',
      NODE_NAME: 'cp-1',
    },
    inputs: [
      {
        key: 'audit-key',
        origin: 'env',
        path: '/var/log/kubernetes/kubernetes.audit',
        hostPath: '/var/log/kubernetes/kubernetes.audit',
        product: 'k8s-audit',
        json: true,
        jsonBecause: 'product k8s-audit',
        extra: { machinegroup: 'masters' },
        shard: 2,
        ttl: 90,
        logstoreMode: 'standard',
      },
    ],
    skipped: [{ key: 'out', stdout: true, reason: 'stdout is not collected from files' }],
    errors: [{ variable: 'aliyun_logs_x_tag', origin: 'env' }],
  });
  expect((out.environment as Record<string, string>).HOME).toBeUndefined();
  expect((out.warnings as unknown[]).length).toBe(1);
  // The aliyun_logs_ names are not secrets even when they contain "key".
  expect(text).toContain('/var/log/kubernetes/kubernetes.audit');
});

test('formatProblem is one line with variable, origin, message and fix', () => {
  expect(
    formatProblem({ variable: 'aliyun_logs_a_ttl', origin: { kind: 'file', file: 'a.env', line: 3 }, message: 'ttl is\nbad', fix: 'set 1..3650' }),
  ).toBe('aliyun_logs_a_ttl (a.env:3): ttl is bad. Fix: set 1..3650');
  expect(
    formatProblem({ variable: 'v', origin: { kind: 'manifest', file: 'm.yaml', pod: 'ns/p', container: 'c' }, message: 'did you mean _tags?', fix: 'rename' }),
  ).toBe('v (manifest m.yaml (pod ns/p, container c)): did you mean _tags? Fix: rename');
});

test('NO_INPUT_HELP says how to add an input from each source', () => {
  for (const w of ['aliyun_logs_', '--env-file', '--manifests', 'tailship config']) expect(NO_INPUT_HELP).toContain(w);
});
