import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseKubeconfigArgs, renderKubeconfig } from '../../../../src/commands/webhook-kubeconfig.js';
import { parseCommandLine, resolveConfig } from '../../../../src/config/index.js';
import { isLoopback, webhookConfig } from '../../../../src/inputs/webhook/config.js';
import { parse } from 'yaml';

const opts = (argv: string[]) => parseCommandLine(['run', ...argv], {}).options;

describe('webhook flags (SPEC §8)', () => {
  test('off by default; flags and env', () => {
    expect(webhookConfig(opts([]))).toBeUndefined();
    const o = parseCommandLine(['run'], { TAILSHIP_WEBHOOK_LISTEN: '127.0.0.1:8443', TAILSHIP_WEBHOOK_KEY: 'kube-audit' }).options;
    expect(webhookConfig(o)).toMatchObject({ host: '127.0.0.1', port: 8443, tls: undefined, maxUnackedBytes: o.maxInflightBytes * 4 });
    expect(o.webhookKey).toBe('kube-audit');
  });

  test('plain HTTP only on loopback; TLS pairs go together; a non-loopback HTTPS listener needs the client CA (exit 2)', () => {
    expect(() => opts(['--webhook-listen', '0.0.0.0:8443'])).toThrow(/loopback/);
    expect(() => opts(['--webhook-listen', '[::1]:8443'])).not.toThrow();
    expect(() => opts(['--webhook-listen', '0.0.0.0:8443', '--webhook-tls-cert', '/c'])).toThrow(/go together/);
    expect(() => opts(['--webhook-listen', '0.0.0.0:8443', '--webhook-tls-cert', '/c', '--webhook-tls-key', '/k'])).toThrow(/client-ca/);
    expect(() => opts(['--webhook-listen', '0.0.0.0:8443', '--webhook-tls-cert', '/c', '--webhook-tls-key', '/k', '--webhook-client-ca', '/ca'])).not.toThrow();
    expect(() => opts(['--webhook-client-ca', '/ca'])).toThrow(/webhook-listen/);
    expect(() => opts(['--webhook-key', 'Bad_Key'])).toThrow(/key/);
    expect(isLoopback('127.0.0.2') && isLoopback('localhost') && !isLoopback('10.0.0.1')).toBe(true);
  });

  test('the spool is the input aliyun_logs_{KEY}: its _tags and _product apply, without a path; a path for it is an error', async () => {
    const o = opts(['--webhook-listen', '127.0.0.1:0', '--state-dir', '/var/lib/tailship', '--host-root', '/host']);
    const r = await resolveConfig(o, { 'aliyun_logs_audit-webhook_tags': 'audit=webhook', 'aliyun_logs_audit-webhook_product': 'k8s-audit' });
    expect(r.problems).toEqual([]);
    expect(r.inputs).toEqual([expect.objectContaining({ key: 'audit-webhook', hostPath: '/var/lib/tailship/webhook/audit.log', json: true, tags: { audit: 'webhook' }, product: 'k8s-audit', logstore: 'audit-webhook' })]);
    const clash = await resolveConfig(o, { 'aliyun_logs_audit-webhook': '/var/log/x.log' });
    expect(clash.problems[0]!.variable).toBe('aliyun_logs_audit-webhook');
  });
});

describe('tailship webhook-kubeconfig', () => {
  test('embeds the files as base64 *-data (or paths with --paths)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeconfig-'));
    for (const f of ['ca.crt', 'c.crt', 'c.key']) fs.writeFileSync(path.join(dir, f), `PEM ${f}\n`);
    const args = parseKubeconfigArgs(['--server', 'https://10.0.0.5:8443/audit', '--ca', path.join(dir, 'ca.crt'), '--client-cert', path.join(dir, 'c.crt'), '--client-key', path.join(dir, 'c.key')]);
    const doc = parse(renderKubeconfig(args));
    expect(doc['current-context']).toBe('webhook');
    expect(doc.clusters[0].cluster).toEqual({ server: 'https://10.0.0.5:8443/audit', 'certificate-authority-data': Buffer.from('PEM ca.crt\n').toString('base64') });
    expect(Buffer.from(doc.users[0].user['client-key-data'], 'base64').toString()).toBe('PEM c.key\n');
    expect(doc.contexts[0].context).toEqual({ cluster: 'tailship', user: 'kube-apiserver' });
    const paths = parse(renderKubeconfig({ ...args, paths: true }));
    expect(paths.users[0].user['client-certificate']).toBe(path.join(dir, 'c.crt'));
    expect(() => parseKubeconfigArgs([])).toThrow(/--server/);
    expect(() => parseKubeconfigArgs(['--server', 'https://x', '--client-cert', '/c'])).toThrow(/together/);
    expect(() => renderKubeconfig({ server: 'https://x', ca: '/nonexistent', paths: false })).toThrow(/cannot read/);
    fs.rmSync(dir, { recursive: true });
  });
});
