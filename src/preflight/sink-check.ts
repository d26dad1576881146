// Item 5 of issue 10: `config` fails exactly where `run` would. The sink is built by the same createSink that
// `run` uses (and closed again), then what only a running sink would find out is checked: an SLS project for
// every input and SLS credentials.

import { ErrorCodes } from '../errors.js';
import { readFileSync } from 'node:fs';
import type { ConfigProblem, InputSpec } from '../config/types.js';
import { createSink } from '../deliver/create-sink.js';
import { credentialsFromVars, parseCredentialsText } from '../deliver/sinks/sls/credentials.js';
import { createMetrics } from '../observe/metrics.js';
import { silentLogger } from '../observe/log.js';

const origin = { kind: 'env' as const };

/** The problems `run` would hit with this sink: an invalid URI, no SLS project, no SLS credentials. */
export async function sinkProblems(uri: string, inputs: InputSpec[], env: NodeJS.ProcessEnv, stateDir: string): Promise<ConfigProblem[]> {
  try {
    const sink = createSink(uri, { logger: silentLogger(), metrics: createMetrics(), env, stateDir });
    await sink.close().catch(() => undefined);
  } catch (e) {
    return [{ code: ErrorCodes.CONFIG_SINK_URI, variable: '--sink', origin, message: (e as Error).message, fix: 'give --sink (TAILSHIP_SINK) one of the accepted forms' }];
  }
  if (!/^sls(\+http)?:\/\//i.test(uri.trim())) return [];
  const out: ConfigProblem[] = [];
  const project = new URL(uri.trim()).searchParams.get('project');
  const without = inputs.filter((i) => !i.project);
  if (!project && without.length > 0) {
    out.push({
      code: ErrorCodes.CONFIG_SLS_PROJECT,
      variable: '--sink',
      origin,
      message: `the sls:// sink names no project and ${without.length === 1 ? 'input' : 'inputs'} ${without.map((i) => `"${i.key}"`).join(', ')} ${without.length === 1 ? 'has' : 'have'} no _project either, so nothing could be sent`,
      fix: 'add ?project=NAME to the sink URI (e.g. sls://cn-hangzhou.log.aliyuncs.com?project=k8s-log-c123), or set aliyun_logs_{key}_project',
    });
  }
  const credProblem = credentialsProblem(env);
  if (credProblem) out.push(credProblem);
  return out;
}

function credentialsProblem(env: NodeJS.ProcessEnv): ConfigProblem | undefined {
  const file = env.TAILSHIP_SLS_CREDENTIALS_FILE?.trim();
  if (file) {
    try {
      parseCredentialsText(readFileSync(file, 'utf8'), `file ${file}`);
      return undefined;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return {
        code: ErrorCodes.CONFIG_SLS_CREDENTIALS,
        variable: 'TAILSHIP_SLS_CREDENTIALS_FILE',
        origin,
        message: code ? `the SLS credentials file ${file} cannot be read (${code})` : (e as Error).message,
        fix: 'point TAILSHIP_SLS_CREDENTIALS_FILE at a readable file with AccessKeyId/AccessKeySecret (JSON) or ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET lines',
      };
    }
  }
  if (credentialsFromVars(env, 'env')) return undefined;
  return {
    code: ErrorCodes.CONFIG_SLS_CREDENTIALS,
    variable: 'ALIBABA_CLOUD_ACCESS_KEY_ID',
    origin,
    message: 'the sls:// sink has no credentials: no access key in the environment and no TAILSHIP_SLS_CREDENTIALS_FILE',
    fix: 'set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN for STS), or TAILSHIP_SLS_CREDENTIALS_FILE',
  };
}
