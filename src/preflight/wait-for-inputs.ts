// Item 15 of issue 10: a DaemonSet pod on a node whose manifests name no input must not crash-loop. With
// --wait-for-inputs, `run` waits: it re-resolves the configuration every 10 s, logs every minute that it waits,
// and answers /readyz 503 with the reason, until an input appears (or it is stopped).

import { resolveConfig, type ResolvedConfig } from '../config/index.js';
import type { AgentOptions } from '../config/types.js';
import type { Logger } from '../observe/log.js';
import { createMetrics } from '../observe/metrics.js';
import { startServer, type ObserveServer } from '../observe/server.js';

export const RECHECK_MS = 10_000;
export const LOG_EVERY_MS = 60_000;

export interface WaitOptions {
  recheckMs?: number;
  logEveryMs?: number;
  /** Resolves when the wait must end without inputs (SIGTERM). */
  stopped: Promise<void>;
}

/** The resolved configuration once it has an input, or undefined when stopped first. */
export async function waitForInputs(options: AgentOptions, env: NodeJS.ProcessEnv, logger: Logger, w: WaitOptions): Promise<ResolvedConfig | undefined> {
  const recheckMs = w.recheckMs ?? RECHECK_MS;
  const logEveryMs = w.logEveryMs ?? LOG_EVERY_MS;
  const reason = 'not ready: no input is configured on this node (no aliyun_logs_* variable found); waiting for one (--wait-for-inputs)\n';
  let server: ObserveServer | undefined;
  if (options.listen !== 'off') {
    server = await startServer({ listen: options.listen, metrics: createMetrics(), isReady: () => false, notReadyReason: () => reason, logger }).catch((e: Error) => {
      logger.error({ listen: options.listen, err: e.message }, 'cannot start the health/metrics server while waiting for inputs');
      return undefined;
    });
  }
  let stopped = false;
  void w.stopped.then(() => (stopped = true));
  const say = () =>
    logger.warn(
      { manifests: options.manifests, envFiles: options.envFiles, recheckSeconds: recheckMs / 1000 },
      'no input is configured on this node: waiting for an aliyun_logs_* variable (in the env, an --env-file or a manifest under --manifests)',
    );
  say();
  let lastSaid = Date.now();
  try {
    for (;;) {
      await Promise.race([new Promise((r) => setTimeout(r, recheckMs).unref()), w.stopped]);
      if (stopped) return undefined;
      const resolved = await resolveConfig(options, env);
      if (resolved.inputs.length > 0 && resolved.problems.length === 0) {
        logger.info({ inputs: resolved.inputs.map((i) => i.key) }, 'inputs configured: starting');
        return resolved;
      }
      if (Date.now() - lastSaid >= logEveryMs) {
        say();
        lastSaid = Date.now();
      }
    }
  } finally {
    await server?.close().catch(() => undefined);
  }
}
