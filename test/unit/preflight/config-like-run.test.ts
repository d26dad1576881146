// Items 5 and 7 of issue 10: `tailship config` fails exactly where `run` would, and says what to set.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { unknownTailshipVars, nearPrefixVars } from '../../../src/preflight/env-check.js';
import { createWorkspace, killAllAgents, runCli, type Workspace } from '../../helpers/agent-process.js';

const workspaces: Workspace[] = [];
function ws(name: string): Workspace {
  const w = createWorkspace(name);
  workspaces.push(w);
  return w;
}
afterEach(async () => {
  await killAllAgents();
  for (const w of workspaces.splice(0)) w.cleanup();
});

/** `config` and `run` with the same flags and env: both exit codes, both stderrs. */
function both(w: Workspace, extra: string[], env: Record<string, string | undefined> = {}) {
  const args = w.args(['--exit-when-idle', ...extra]);
  const config = runCli(['config', ...args], { env });
  const run = runCli(['run', ...args], { env });
  return { config, run };
}

describe('item 5: config fails where run fails', () => {
  it('item 5: --sink http:// is invalid in config (exit 2) as in run', () => {
    const w = ws('cfg-http');
    const { config, run } = both(w, ['--sink', 'http://']);
    expect(run.code).toBe(2);
    expect(config.code).toBe(2);
    expect(JSON.parse(config.stdout).valid).toBe(false);
    expect(config.stderr).toMatch(/^error: --sink/m);
  });

  it('item 5: no input at all (prefix typo aliyun_log_a=) exits 2 in both, with the did-you-mean', () => {
    const w = ws('cfg-noinput');
    fs.writeFileSync(w.envFile, `aliyun_log_a=${w.activePath}\n`);
    const { config, run } = both(w, []);
    expect(config.code).toBe(2);
    expect(run.code).toBe(2);
    for (const r of [config, run]) expect(r.stderr).toContain('did you mean aliyun_logs_a?');
  });

  it('item 5: a prefix typo in the process env is found too', () => {
    const w = ws('cfg-noinput-env');
    fs.writeFileSync(w.envFile, '');
    const { config, run } = both(w, [], { aliyun_log_a: w.activePath });
    expect([config.code, run.code]).toEqual([2, 2]);
    expect(config.stderr).toContain('aliyun_logs_a');
  });

  it('item 5: sls:// with no project and no credentials exits 2 in both (run does not block), saying what to set', () => {
    const w = ws('cfg-sls');
    fs.writeFileSync(w.activePath, '{"a":1}\n');
    const { config, run } = both(w, ['--sink', 'sls://127.0.0.1:9']);
    expect(config.code).toBe(2);
    expect(run.code).toBe(2);
    for (const r of [config, run]) {
      expect(r.stderr).toMatch(/\?project=/);
      expect(r.stderr).toMatch(/ALIBABA_CLOUD_ACCESS_KEY_ID/);
    }
  });

  it('item 5: sls:// with a project and credentials is valid', () => {
    const w = ws('cfg-sls-ok');
    const r = runCli(['config', ...w.args(['--sink', 'sls://127.0.0.1:9?project=p'])], {
      env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'id', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'secret' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain('secret"');
  });

  it('item 5: an unreadable SLS credentials file is an error', () => {
    const w = ws('cfg-sls-file');
    const r = runCli(['config', ...w.args(['--sink', 'sls://127.0.0.1:9?project=p'])], { env: { TAILSHIP_SLS_CREDENTIALS_FILE: path.join(w.root, 'none.json') } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: TAILSHIP_SLS_CREDENTIALS_FILE/m);
  });

  it('item 5: config warns (as text) when a log directory is missing, a file is a directory, two inputs name one file', () => {
    const w = ws('cfg-warn');
    fs.writeFileSync(path.join(w.logDir, 'a.log'), '');
    fs.mkdirSync(path.join(w.logDir, 'd.log'));
    fs.writeFileSync(
      w.envFile,
      [`aliyun_logs_a=${w.logDir}/a.log`, `aliyun_logs_all=${w.logDir}/*.log`, `aliyun_logs_gone=${w.root}/nope/x.log`, `aliyun_logs_d=${w.logDir}/d.log`].join('\n') + '\n',
    );
    const r = runCli(['config', ...w.args()]);
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning: '));
    expect(warnings.some((l) => l.startsWith('warning: aliyun_logs_all') && l.includes('a.log') && /twice/.test(l))).toBe(true);
    expect(warnings.some((l) => l.startsWith('warning: aliyun_logs_gone') && /does not exist/.test(l))).toBe(true);
    expect(warnings.some((l) => l.startsWith('warning: aliyun_logs_d') && /directory/.test(l))).toBe(true);
    // Text, never pino JSON, in config's human output.
    expect(r.stderr.split('\n').filter((l) => l.startsWith('{'))).toEqual([]);
    expect(JSON.parse(r.stdout).warnings.length).toBe(warnings.length);
  });
});

describe('item 7: unknown TAILSHIP_ variables', () => {
  it('item 7: warns on an unknown TAILSHIP_ variable with the closest name', () => {
    const [w] = unknownTailshipVars({ TAILSHIP_SINC: 'stdout:', TAILSHIP_SINK: 'stdout:', PATH: '/bin' });
    expect(w?.variable).toBe('TAILSHIP_SINC');
    expect(w?.message).toContain('TAILSHIP_SINK');
    expect(unknownTailshipVars({ TAILSHIP_STATE_DIR: '/x', TAILSHIP_TAGS: 'a=b', TAILSHIP_WAIT_FOR_INPUTS: 'true' })).toEqual([]);
    expect(unknownTailshipVars({ TAILSHIP_ZZZZZZZZZ: '1' })[0]?.message).not.toContain('did you mean');
  });

  it('item 7: in config (text warning) and in run (log warning)', () => {
    const w = ws('cfg-unknown-env');
    fs.writeFileSync(w.activePath, '{"a":1}\n');
    const { config, run } = both(w, [], { TAILSHIP_SINC: 'stdout:' });
    expect(config.code).toBe(0);
    expect(config.stderr).toMatch(/^warning: TAILSHIP_SINC .*did you mean TAILSHIP_SINK\?/m);
    expect(run.code).toBe(0);
    const logged = run.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(logged.some((l) => l.level === 'warn' && l.msg.includes('TAILSHIP_SINK'))).toBe(true);
  });

  it('item 5: the prefix-typo check leaves the credential variables alone', () => {
    const vars = ['ALICLOUD_LOG_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_ID', 'NODE_NAME', 'aliyun_logs_x'].map((name) => ({ name, origin: { kind: 'env' as const } }));
    expect(nearPrefixVars(vars)).toEqual([]);
    expect(nearPrefixVars([{ name: 'Aliyun-log-x', origin: { kind: 'env' } }])[0]?.message).toContain('aliyun_logs_x');
  });
});
