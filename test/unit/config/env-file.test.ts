import { chmod, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { parseEnvFile, parseGlobalTags, readEnvFile, varsFromProcessEnv } from '../../../src/config/env-sources.js';
import { tempDir, writeFiles } from './helpers.js';
import { ErrorCodes } from '../../../src/errors.js';

const F = 'x.env';
const values = (text: string) => parseEnvFile(text, F).vars.map((v) => [v.name, v.value, v.origin.kind === 'file' ? v.origin.line : 0]);

describe('parseEnvFile', () => {
  test.each([
    ['A=b', [['A', 'b', 1]]],
    ['export A=b', [['A', 'b', 1]]],
    ['  export   A = b  ', [['A', 'b', 1]]],
    ['A="b c"', [['A', 'b c', 1]]],
    ["A='b \\n c'", [['A', 'b \\n c', 1]]],
    ['A="b\\nc\\"d\\\\e\\$f\\q"', [['A', 'b\nc"d\\e$f\\q', 1]]],
    ['A="b # not a comment" # comment', [['A', 'b # not a comment', 1]]],
    ['A=b # comment', [['A', 'b', 1]]],
    ['A=b#c', [['A', 'b#c', 1]]],
    ['A=', [['A', '', 1]]],
    ['A=x=y', [['A', 'x=y', 1]]],
    ['aliyun_logs_audit-c1_tags=audit=apiserver', [['aliyun_logs_audit-c1_tags', 'audit=apiserver', 1]]],
    ['\uFEFF# c\r\n\r\nA=1\r\nB=2\r\n', [['A', '1', 3], ['B', '2', 4]]],
  ])('%j', (text, expected) => {
    const r = parseEnvFile(text, F);
    expect(r.problems).toEqual([]);
    expect(values(text)).toEqual(expected);
  });

  test.each([
    ['just words', 1, 'not KEY=VALUE'],
    ['=value', 1, 'variable name'],
    ['A B=c', 1, 'variable name'],
    ['ok=1\nA="open', 2, 'not closed'],
    ["A='x' y", 1, 'follows the closing quote'],
  ])('malformed %j is a problem at line %i (%s)', (text, line) => {
    const r = parseEnvFile(text, F);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.origin).toEqual({ kind: 'file', file: F, line });
    expect(r.problems[0]!.code).toBe(ErrorCodes.CONFIG_ENV_FILE);
  });

  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  test('a missing file, a directory, an unreadable file are problems naming the file', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    const [locked] = await writeFiles(dir, { 'locked.env': 'A=1\n' });
    await chmod(locked!, 0o000);
    const canRead = process.getuid?.() === 0; // root reads anything
    for (const [file] of [
      [path.join(dir, 'nope.env'), 'does not exist'],
      [dir, 'is a directory'],
      ...(canRead ? [] : [[locked!, 'permission denied']]),
    ] as Array<[string, string]>) {
      const r = await readEnvFile(file);
      expect(r.vars).toEqual([]);
      expect(r.problems).toHaveLength(1);
      expect(r.problems[0]).toMatchObject({ code: ErrorCodes.CONFIG_ENV_FILE, variable: '--env-file', origin: { kind: 'file', file, line: 0 } });
    }
  });
});

test('varsFromProcessEnv takes only the two prefixes (any case, for the warning), sorted', () => {
  const vars = varsFromProcessEnv({ PATH: '/bin', loong_logs_b: '/b', aliyun_logs_a: '/a', ALIYUN_LOGS_C: '/c', aliyun_log_x: '/x' });
  expect(vars.map((v) => v.name)).toEqual(['ALIYUN_LOGS_C', 'aliyun_logs_a', 'loong_logs_b']);
  expect(vars.every((v) => v.origin.kind === 'env')).toBe(true);
});

test('parseGlobalTags', () => {
  expect(parseGlobalTags(undefined)).toEqual({ tags: {}, problems: [] });
  expect(parseGlobalTags('a=1, b=x=y,,solo')).toEqual({ tags: { a: '1', b: 'x=y', solo: 'solo' }, problems: [] });
  const bad = parseGlobalTags('=v,__path__=x');
  expect(bad.problems.map((p) => p.variable)).toEqual(['TAILSHIP_TAGS', 'TAILSHIP_TAGS']);
});
