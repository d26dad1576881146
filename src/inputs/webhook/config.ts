// SPEC §8 flags → the receiver's configuration, and the spool as an input of the env convention.
import net from 'node:net';
import path from 'node:path';
import type { EnvVar } from '../../config/env-convention.js';
import type { AgentOptions, InputSpec } from '../../config/types.js';
import type { TlsFiles } from './tls.js';

export const DEFAULT_WEBHOOK_KEY = 'audit-webhook';

export interface WebhookConfig {
  host: string;
  port: number;
  tls?: TlsFiles;
  stateDir: string;
  timeoutMs: number;
  /** `--max-inflight-bytes` × 4: unacknowledged spool bytes that make the spool full (429). */
  maxUnackedBytes: number;
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  return h === '::1' || /^::ffff:127\./i.test(h);
}

/** The receiver's config, or undefined when `--webhook-listen` is off. Throws a message with the fix (exit 2). */
export function webhookConfig(o: AgentOptions): WebhookConfig | undefined {
  const tlsFlags = o.webhookTlsCert !== undefined || o.webhookTlsKey !== undefined || o.webhookClientCa !== undefined;
  if (o.webhookListen === undefined || o.webhookListen === 'off') {
    if (tlsFlags) throw new Error('--webhook-tls-cert/--webhook-tls-key/--webhook-client-ca are given but --webhook-listen is off; give --webhook-listen HOST:PORT too');
    return undefined;
  }
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):(\d{1,5})$/.exec(o.webhookListen)!;
  const host = m[1]!.replace(/^\[|\]$/g, '');
  const port = Number(m[2]);
  if ((o.webhookTlsCert === undefined) !== (o.webhookTlsKey === undefined)) {
    throw new Error('--webhook-tls-cert and --webhook-tls-key go together: give both (the server certificate and its key)');
  }
  if (o.webhookTlsCert === undefined) {
    if (o.webhookClientCa !== undefined) throw new Error('--webhook-client-ca needs HTTPS: give --webhook-tls-cert and --webhook-tls-key too');
    if (!isLoopback(host)) {
      throw new Error(`--webhook-listen ${o.webhookListen}: plain HTTP is allowed on a loopback address only; give --webhook-tls-cert, --webhook-tls-key and --webhook-client-ca, or listen on 127.0.0.1`);
    }
  } else if (o.webhookClientCa === undefined && !isLoopback(host)) {
    throw new Error(`--webhook-listen ${o.webhookListen}: without --webhook-client-ca anyone who reaches the port could write audit events; give --webhook-client-ca (the CA of the API server's client certificate)`);
  }
  return {
    host,
    port,
    tls: o.webhookTlsCert !== undefined ? { cert: o.webhookTlsCert, key: o.webhookTlsKey!, clientCa: o.webhookClientCa } : undefined,
    stateDir: o.stateDir,
    timeoutMs: o.webhookTimeout,
    maxUnackedBytes: o.maxInflightBytes * 4,
  };
}

export function webhookSpoolPath(stateDir: string): string {
  return path.join(path.resolve(stateDir), 'webhook', 'audit.log');
}

/**
 * The main variable of the webhook input, as if `aliyun_logs_{KEY}={spool}` were set: its `_tags`, `_product`,
 * `_logstore`… then apply as for any input. Added before the convention runs (config/index.ts).
 */
export function webhookInputVar(o: AgentOptions): EnvVar | undefined {
  if (o.webhookListen === undefined || o.webhookListen === 'off') return undefined;
  return { name: `aliyun_logs_${o.webhookKey}`, value: webhookSpoolPath(o.stateDir), origin: { kind: 'env' } };
}

/** The input built from that variable: the state dir is local (no --host-root), and every line is JSON. */
export function finishWebhookInput(input: InputSpec, o: AgentOptions): InputSpec {
  const p = webhookSpoolPath(o.stateDir);
  return { ...input, path: p, hostPath: p, json: true };
}
