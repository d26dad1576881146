// `tailship policy simulate` and `--audit-policy` through the real CLI (node dist/cli.js): SPEC §6 output shapes,
// .gz logs, exit codes, and an invalid policy stopping `config` and `run` with exit 2.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, test } from 'vitest';
import { REPO_ROOT, runCli } from '../helpers/agent-process.js';
import { REAL_LOGS } from '../unit/audit/policy/real-logs.js';
import { readRefPolicy, refEvaluate } from '../unit/audit/policy/reference-policy.js';

const ACK = path.join(REPO_ROOT, 'policies', 'ack.yaml');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-simulate-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, text: string | Buffer) => {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
};

const lines = REAL_LOGS.flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').map((l) => l.replace(/\r$/, '')).filter(Boolean));
const ONE_LOG = write('all.log', `${lines.join('\n')}\n`);
const GZ_LOG = write('all.log.1.gz', gzipSync(fs.readFileSync(ONE_LOG)));

function expectedJson(policyFile: string) {
  const ref = readRefPolicy(policyFile);
  const n = ref.rules.length;
  const rows = [...Array.from({ length: n }, (_, i) => i as number | null), null].map((rule) => ({ rule, events: 0, kept: 0, bytesIn: 0, bytesOut: 0 }));
  for (const l of lines) {
    const r = refEvaluate(ref, l);
    const row = rows[r.rule ?? n]!;
    const b = Buffer.byteLength(l);
    row.events++;
    row.bytesIn += b;
    if (r.kept) {
      row.kept++;
      row.bytesOut += r.changed ? Buffer.byteLength(JSON.stringify(r.event)) : b;
    }
  }
  const sum = (k: 'events' | 'kept' | 'bytesIn' | 'bytesOut') => rows.reduce((a, r) => a + r[k], 0);
  return { rules: rows, total: { events: sum('events'), kept: sum('kept'), bytesIn: sum('bytesIn'), bytesOut: sum('bytesOut') } };
}

describe('policy simulate', () => {
  test('--json: the per-rule numbers of the independent count; a .gz backup gives the same', () => {
    const want = expectedJson(ACK);
    expect(want.total.events).toBe(lines.length);
    for (const log of [ONE_LOG, GZ_LOG]) {
      const r = runCli(['policy', 'simulate', '--policy', ACK, '--json', log]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(want);
    }
    // several files add up; the flag may come after the logs
    const r = runCli(['policy', 'simulate', ONE_LOG, GZ_LOG, '--json', `--policy=${ACK}`]);
    expect(JSON.parse(r.stdout).total.events).toBe(2 * lines.length);
  });

  test('--per-event: one JSON line per event, in input order', () => {
    const r = runCli(['policy', 'simulate', '--policy', ACK, '--per-event', ONE_LOG]);
    expect(r.code, r.stderr).toBe(0);
    const got = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const ref = readRefPolicy(ACK);
    expect(got).toEqual(
      lines.map((l) => {
        const ev = JSON.parse(l);
        const o = refEvaluate(ref, l);
        return { auditID: ev.auditID ?? '', stage: ev.stage ?? '', rule: o.rule, level: o.level, kept: o.kept };
      }),
    );
    expect(Object.keys(got[0]!)).toEqual(['auditID', 'stage', 'rule', 'level', 'kept']);
  });

  test('the table: one row per rule, the unmatched row, the total', () => {
    const r = runCli(['policy', 'simulate', '--policy', ACK, ONE_LOG]);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.split('\n');
    expect(rows.some((l) => /^rule\s+level\s+events\s+kept\s+bytes in\s+bytes out\s+saved\s+matches$/.test(l))).toBe(true);
    for (let i = 0; i < 12; i++) expect(rows.some((l) => l.startsWith(`${i} `))).toBe(true);
    expect(rows.some((l) => /^-\s+None\s/.test(l))).toBe(true);
    expect(rows.some((l) => new RegExp(`^total\\s+${lines.length}\\s`).test(l))).toBe(true);
    expect(r.stderr).toContain('deprecated'); // v1beta1: a warning, not an error
  });

  test('lines that are not JSON events are counted on stderr, not evaluated', () => {
    const f = write('mixed.log', `${lines[0]}\nnot json\r\n\n${lines[1]}\n{"unterminated":`);
    const r = runCli(['policy', 'simulate', '--policy', ACK, '--json', f]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).total.events).toBe(2);
    expect(r.stderr).toMatch(/2 line\(s\) are not one JSON event/);
  });

  test('exit 2: invalid policy (naming the rule), unreadable log, usage mistakes', () => {
    const bad = write('bad.yaml', 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n- level: Sometimes\n');
    let r = runCli(['policy', 'simulate', '--policy', bad, ONE_LOG]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('rules[1].level');
    expect(r.stderr).toContain('TAILSHIP_E_POLICY_INVALID');
    expect(r.stdout).toBe('');
    r = runCli(['policy', 'simulate', '--policy', ACK, ONE_LOG, path.join(tmp, 'missing.log')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('TAILSHIP_E_POLICY_LOG_UNREADABLE');
    const broken = write('broken.gz', Buffer.concat([gzipSync(Buffer.from(lines.join('\n'))).subarray(0, 40)]));
    r = runCli(['policy', 'simulate', '--policy', ACK, broken]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('TAILSHIP_E_POLICY_LOG_UNREADABLE');
    for (const args of [['policy'], ['policy', 'simulate', ONE_LOG], ['policy', 'simulate', '--policy', ACK], ['policy', 'frobnicate'], ['policy', 'simulate', '--policy', ACK, '--bogus', ONE_LOG]]) {
      expect(runCli(args).code, args.join(' ')).toBe(2);
    }
    expect(runCli(['policy', 'simulate', '--help']).code).toBe(0);
  });
});

describe('--audit-policy in config and run', () => {
  const env = { aliyun_logs_audit: write('kubernetes.audit', '') , aliyun_logs_audit_product: 'k8s-audit' };
  const bad = write('bad2.yaml', 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n- level: None\n  nonResourceURLs: [healthz]\n');

  test('tailship config: exit 2 with one error per problem naming file, line and rule', () => {
    const r = runCli(['config', '--audit-policy', bad, '--state-dir', path.join(tmp, 's1')], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`--audit-policy \\(${bad.replace(/[.]/g, '\\.')}:6\\): TAILSHIP_E_POLICY_INVALID: rules\\[1\\]\\.nonResourceURLs\\[0\\]`));
    expect(JSON.parse(r.stdout).valid).toBe(false);
  });

  test('tailship run: exit 2 at start, nothing started', () => {
    const r = runCli(['run', '--audit-policy', bad, '--state-dir', path.join(tmp, 's2'), '--listen', 'off', '--sink', `file:${tmp}/out`], { env: { ...env } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('rules[1]');
    expect(fs.existsSync(path.join(tmp, 'out'))).toBe(false);
  });

  test('TAILSHIP_AUDIT_POLICY works like the flag; a valid v1beta1 policy is a warning only', () => {
    const r = runCli(['config', '--state-dir', path.join(tmp, 's3')], { env: { ...env, TAILSHIP_AUDIT_POLICY: ACK } });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.options.auditPolicy).toBe(ACK);
    expect(out.warnings.some((w: { message: string }) => /deprecated/.test(w.message))).toBe(true);
  });
});
