import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CredentialsError,
  createCredentialProvider,
  parseCredentialsText,
} from '../../../src/deliver/sinks/sls/credentials.js';
import { ErrorCodes } from '../../../src/errors.js';
import { thrownCode } from '../deliver/support.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tailship-creds-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a Secret-volume-like layout: file -> ..data/file, ..data -> ..{version}; swaps the symlink atomically. */
function writeSecretVersion(version: string, files: Record<string, string>): void {
  const vdir = join(dir, `..${version}`);
  mkdirSync(vdir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(vdir, name), text);
  symlinkSync(`..${version}`, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const name of Object.keys(files)) {
    try {
      symlinkSync(`..data/${name}`, join(dir, name));
    } catch {
      // already linked
    }
  }
}

describe('SLS credentials', () => {
  it('reads the environment, ALIBABA_CLOUD_* first, then logtail ALICLOUD_LOG_*', async () => {
    const a = await createCredentialProvider({
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'id1',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'sec1',
      ALIBABA_CLOUD_SECURITY_TOKEN: 'tok1',
      ALICLOUD_LOG_ACCESS_KEY_ID: 'id2',
      ALICLOUD_LOG_ACCESS_KEY_SECRET: 'sec2',
    }).get();
    expect(a).toMatchObject({ accessKeyId: 'id1', accessKeySecret: 'sec1', securityToken: 'tok1' });
    const b = await createCredentialProvider({
      ALICLOUD_LOG_ACCESS_KEY_ID: 'id2',
      ALICLOUD_LOG_ACCESS_KEY_SECRET: 'sec2',
      ALICLOUD_LOG_STS_TOKEN: 'tok2',
    }).get();
    expect(b).toMatchObject({ accessKeyId: 'id2', accessKeySecret: 'sec2', securityToken: 'tok2' });
    expect(b.origin).toBe('env ALICLOUD_LOG_ACCESS_KEY_ID');
  });

  it('says what to set when there are none', async () => {
    const p = createCredentialProvider({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'only-id' });
    await expect(p.get()).rejects.toThrow(CredentialsError);
    await expect(p.get()).rejects.toMatchObject({ code: ErrorCodes.SINK_CREDENTIALS_MISSING });
  });

  it('parses JSON and KEY=VALUE files, and never echoes a value in an error', () => {
    expect(
      parseCredentialsText('{"AccessKeyId":"i","AccessKeySecret":"s","SecurityToken":"t","Expiration":"x"}', 'f'),
    ).toEqual({ accessKeyId: 'i', accessKeySecret: 's', securityToken: 't', origin: 'f' });
    expect(
      parseCredentialsText('# sls\nexport ALIBABA_CLOUD_ACCESS_KEY_ID="i"\nALIBABA_CLOUD_ACCESS_KEY_SECRET=s\n', 'f'),
    ).toEqual({ accessKeyId: 'i', accessKeySecret: 's', origin: 'f' });
    expect(thrownCode(() => parseCredentialsText('{"AccessKeyId":"topsecret-id"}', 'f'))).toBe(ErrorCodes.SINK_CREDENTIALS_MISSING);
    try {
      parseCredentialsText('{"AccessKeyId":"topsecret-id", bad json', 'f');
    } catch (err) {
      expect(String(err)).not.toContain('topsecret');
    }
    expect(() => parseCredentialsText('SOMETHING=else', 'f')).toThrow(CredentialsError);
  });

  it('re-reads the file after a Kubernetes-style symlink swap (Secret rotation), without a restart', async () => {
    writeSecretVersion('v1', { 'credentials.json': '{"AccessKeyId":"id-1","AccessKeySecret":"secret-1"}' });
    const p = createCredentialProvider({
      TAILSHIP_SLS_CREDENTIALS_FILE: join(dir, 'credentials.json'),
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'env-id',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'env-secret',
    });
    expect(await p.get()).toMatchObject({ accessKeyId: 'id-1', accessKeySecret: 'secret-1' });
    expect(await p.get()).toMatchObject({ accessKeyId: 'id-1' });
    writeSecretVersion('v2', {
      'credentials.json': '{"AccessKeyId":"id-2","AccessKeySecret":"secret-2","SecurityToken":"sts-2"}',
    });
    expect(await p.get()).toMatchObject({ accessKeyId: 'id-2', accessKeySecret: 'secret-2', securityToken: 'sts-2' });
  });

  it('re-reads a file rewritten in place, and keeps the last good credentials while it is broken or gone', async () => {
    const file = join(dir, 'sls.env');
    writeFileSync(file, 'ALIBABA_CLOUD_ACCESS_KEY_ID=a\nALIBABA_CLOUD_ACCESS_KEY_SECRET=b\n');
    const p = createCredentialProvider({ TAILSHIP_SLS_CREDENTIALS_FILE: file });
    expect(await p.get()).toMatchObject({ accessKeyId: 'a' });
    writeFileSync(file, 'ALIBABA_CLOUD_ACCESS_KEY_ID=a2\nALIBABA_CLOUD_ACCESS_KEY_SECRET=b2\nALIBABA_CLOUD_SECURITY_TOKEN=t2');
    expect(await p.get()).toMatchObject({ accessKeyId: 'a2', accessKeySecret: 'b2', securityToken: 't2' });
    writeFileSync(file, '{"AccessKeyId": ');
    expect(await p.get()).toMatchObject({ accessKeyId: 'a2' });
    rmSync(file);
    expect(await p.get()).toMatchObject({ accessKeyId: 'a2' });
    writeFileSync(file, '{"AccessKeyId":"a3","AccessKeySecret":"b3"}');
    expect(await p.get()).toMatchObject({ accessKeyId: 'a3' });
  });

  it('names the file when it cannot be read at start', async () => {
    const p = createCredentialProvider({ TAILSHIP_SLS_CREDENTIALS_FILE: join(dir, 'missing.json') });
    await expect(p.get()).rejects.toMatchObject({ code: ErrorCodes.SINK_CREDENTIALS_MISSING });
  });
});
