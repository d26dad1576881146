// Item 6 of issue 10: Node 20 reads `--env-file` from anywhere in argv (even after the script name) and exits 9
// when the file is missing. Every flag must be tailship's: the `tailship` command, the shebang and the image end
// Node's options with `--`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, LAUNCHER } from '../../helpers/agent-process.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() };

function run(cmd: string, args: string[]) {
  return spawnSync(cmd, args, { encoding: 'utf8', env, timeout: 20_000 });
}

describe('item 6: --env-file is always tailship flag', () => {
  it('item 6: dist/cli.js run directly (shebang) reports a missing --env-file itself, exit 2', () => {
    const r = run(CLI, ['config', '--env-file', '/nope']);
    expect(r.stderr).not.toMatch(/^node:/m);
    expect(r.status).toBe(2);
    expect(r.stdout + r.stderr).toContain('/nope');
  });

  it('item 6: the `tailship` command through a bin symlink (as npm links it) finds dist/cli.js; --env-file is tailship\'s', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ts-bin-'));
    const bin = join(dir, 'tailship');
    symlinkSync(LAUNCHER, bin);
    const f = join(dir, 'my.env');
    writeFileSync(f, 'aliyun_logs_app=/var/log/app.log\n');
    const r = run(bin, ['config', '--env-file', f]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).inputs.map((i: { key: string }) => i.key)).toEqual(['app']);
    expect(run(bin, ['config', '--env-file', '/nope']).status).toBe(2);
  });

  it('item 6: `node -- dist/cli.js` (the image entrypoint form) keeps --env-file for tailship', () => {
    const r = run(process.execPath, ['--', CLI, 'config', '--env-file', '/nope']);
    expect(r.stderr).not.toMatch(/^node:/m);
    expect(r.status).toBe(2);
  });
});
