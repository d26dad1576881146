import { readFile, stat } from 'node:fs/promises';
import type { Logger } from '../../../observe/log.js';
import { ErrorCodes, TailshipError } from '../../../errors.js';

/**
 * Where the SLS access key comes from (SPEC §3 `sls://`):
 *
 * - `TAILSHIP_SLS_CREDENTIALS_FILE` set: that file only. Either JSON `{"AccessKeyId", "AccessKeySecret",
 *   "SecurityToken"}` (the shape of the ECS RAM-role metadata answer; extra keys such as `Expiration` ignored)
 *   or `KEY=VALUE` lines with the env names below. Before each request the file is stat'ed (following
 *   symlinks, so a Kubernetes Secret volume's `..data` symlink swap is seen) and re-read when its device,
 *   inode, size or mtime changed: a rotated Secret is used without a restart.
 * - otherwise the environment: `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET`, optional
 *   `ALIBABA_CLOUD_SECURITY_TOKEN`, or logtail's `ALICLOUD_LOG_ACCESS_KEY_ID`, `ALICLOUD_LOG_ACCESS_KEY_SECRET`,
 *   `ALICLOUD_LOG_STS_TOKEN`.
 *
 * Values are never logged nor put in error messages; only where they came from.
 */

export interface SlsCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  /** Where they were read from, for messages: `env ALIBABA_CLOUD_ACCESS_KEY_ID`, `file /path`. */
  origin: string;
}

export interface CredentialProvider {
  /** The current credentials; rejects with CredentialsError when there are none. */
  get(): Promise<SlsCredentials>;
  /** Where credentials are looked for (for messages). */
  readonly where: string;
}

/** No usable credentials: none set, or the credentials file is unreadable or incomplete. */
export class CredentialsError extends TailshipError {
  override name = 'CredentialsError';
  constructor(message: string) {
    super(ErrorCodes.SINK_CREDENTIALS_MISSING, message);
  }
}

const ENV_SETS = [
  ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'ALIBABA_CLOUD_SECURITY_TOKEN'],
  ['ALICLOUD_LOG_ACCESS_KEY_ID', 'ALICLOUD_LOG_ACCESS_KEY_SECRET', 'ALICLOUD_LOG_STS_TOKEN'],
] as const;

const HOW_TO =
  'set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN for STS), ' +
  'or point TAILSHIP_SLS_CREDENTIALS_FILE at a file holding them';

/** Credentials from an env-like map (the process env, or the KEY=VALUE lines of a file). */
export function credentialsFromVars(vars: Record<string, string | undefined>, origin: string): SlsCredentials | undefined {
  for (const [idName, secretName, tokenName] of ENV_SETS) {
    const id = vars[idName]?.trim();
    const secret = vars[secretName]?.trim();
    if (id && secret) {
      const token = vars[tokenName]?.trim();
      return { accessKeyId: id, accessKeySecret: secret, ...(token ? { securityToken: token } : {}), origin: `${origin} ${idName}` };
    }
  }
  return undefined;
}

/** Parses a credentials file's text (JSON or KEY=VALUE lines); throws with a reason that shows no value. */
export function parseCredentialsText(text: string, origin: string): SlsCredentials {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let obj: unknown;
    try {
      obj = JSON.parse(trimmed);
    } catch {
      throw new CredentialsError(`${origin} is not valid JSON`);
    }
    const rec = (obj ?? {}) as Record<string, unknown>;
    const str = (k: string): string | undefined => (typeof rec[k] === 'string' && (rec[k] as string).trim()) || undefined;
    const id = str('AccessKeyId') ?? str('accessKeyId');
    const secret = str('AccessKeySecret') ?? str('accessKeySecret');
    const token = str('SecurityToken') ?? str('securityToken');
    if (!id || !secret) throw new CredentialsError(`${origin} has no "AccessKeyId" and "AccessKeySecret"`);
    return { accessKeyId: id, accessKeySecret: secret, ...(token ? { securityToken: token } : {}), origin };
  }
  const vars: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const l = line.trim();
    if (!l || l.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(l);
    if (!m) continue;
    let v = m[2]!;
    if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.endsWith(v[0]!)) v = v.slice(1, -1);
    vars[m[1]!] = v;
  }
  const creds = credentialsFromVars(vars, origin);
  if (!creds) {
    throw new CredentialsError(`${origin} has neither JSON credentials nor ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET lines`);
  }
  return { ...creds, origin };
}

export function createCredentialProvider(env: NodeJS.ProcessEnv, logger?: Logger): CredentialProvider {
  const file = env.TAILSHIP_SLS_CREDENTIALS_FILE?.trim();
  if (file) return new FileCredentials(file, logger);
  const creds = credentialsFromVars(env, 'env');
  return {
    where: 'env ALIBABA_CLOUD_ACCESS_KEY_ID / ALICLOUD_LOG_ACCESS_KEY_ID',
    get: async () => {
      if (!creds) throw new CredentialsError(`no SLS credentials: ${HOW_TO}`);
      return creds;
    },
  };
}

/** A credentials file re-read when it changes (checked with one stat per call). */
class FileCredentials implements CredentialProvider {
  readonly where: string;
  readonly #path: string;
  readonly #logger: Logger | undefined;
  #current: SlsCredentials | undefined;
  #version = '';
  #warned = '';

  constructor(path: string, logger?: Logger) {
    this.#path = path;
    this.#logger = logger;
    this.where = `file ${path} (TAILSHIP_SLS_CREDENTIALS_FILE)`;
  }

  async get(): Promise<SlsCredentials> {
    let version: string;
    try {
      const st = await stat(this.#path);
      version = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch (err) {
      // A Secret volume swaps its symlink atomically, so a missing file is an operator error, not a transient
      // state; keep the last good credentials if there are any.
      return this.#fallback(`cannot read ${this.where}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    if (version === this.#version && this.#current) return this.#current;
    let creds: SlsCredentials;
    try {
      creds = parseCredentialsText(await readFile(this.#path, 'utf8'), `file ${this.#path}`);
    } catch (err) {
      // Not remembered as read: a half-written file is read again on the next call.
      return this.#fallback(err instanceof CredentialsError ? err.message : `cannot read ${this.where}: ${String(err)}`);
    }
    if (this.#current) this.#logger?.info({ file: this.#path }, 'SLS credentials file changed: using the new credentials');
    this.#current = creds;
    this.#version = version;
    this.#warned = '';
    return creds;
  }

  #fallback(problem: string): SlsCredentials {
    if (!this.#current) throw new CredentialsError(`no SLS credentials: ${problem}; ${HOW_TO}`);
    if (this.#warned !== problem) {
      this.#warned = problem;
      this.#logger?.warn({ file: this.#path }, `${problem}; still using the credentials read before`);
    }
    return this.#current;
  }
}
