import type { Batch } from '../../../batch/batch.js';
import { ErrorCodes } from '../../../errors.js';
import type { Logger } from '../../../observe/log.js';
import { eventIdOf, takeSchemaParams } from '../../../schema/index.js';
import { toOtel, type KeyValue } from '../../../schema/otel.js';
import type { DeadLetterSpool } from '../../dead-letter.js';
import { SinkError, type Sink } from '../../sink.js';
import { createStoreClient, safeHeader, statusError, takeTransportParams, type StoreClientOptions, type StoreReply } from '../store-client.js';
import { decodePartialSuccess, decodeStatusMessage, encodeExportLogsRequest } from './encode.js';

export interface OtlpSinkContext {
  logger: Logger;
  env: Record<string, string | undefined>;
  deadLetter?: DeadLetterSpool;
}

const SCOPE = { name: 'tailship', version: '0.1.0' };

/**
 * `otlp+http(s)://HOST:PORT[/PATH]` (SPEC §10): OTLP/HTTP logs, protobuf, to `/v1/logs` (or the URI's path when it
 * ends in `/v1/logs`). `?header.NAME=VALUE` adds a header (e.g. a vendor's API key header); `TAILSHIP_OTLP_AUTHORIZATION`
 * sets `Authorization`.
 */
export function parseOtlpUri(uri: URL, env: Record<string, string | undefined>): { client: StoreClientOptions; path: string } {
  const scheme = uri.protocol.endsWith('+https:') ? 'https:' : 'http:';
  const url = new URL(uri.href.replace(/^otlp\+https?:/i, scheme));
  if (!url.hostname) throw new Error('otlp sink: no host; e.g. otlp+http://127.0.0.1:4318');
  if (url.username || url.password) throw new Error('otlp sink: put no credentials in the URI; set TAILSHIP_OTLP_AUTHORIZATION or ?header.NAME=');
  const q = url.searchParams;
  const transport = takeTransportParams(q, 'otlp sink');
  const schema = takeSchemaParams(url, 'otel');
  if (schema.schema !== 'otel') throw new Error(`otlp sink: OTLP carries OpenTelemetry log records; remove ?schema=${schema.schema}`);
  const headers: Record<string, string> = {};
  for (const key of [...q.keys()]) {
    if (!key.startsWith('header.')) throw new Error(`otlp sink: unknown parameter ?${key}=; known: header.NAME, gzip, timeout, ca, insecure, policy, redact, name`);
    const name = key.slice('header.'.length).toLowerCase();
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name) || ['content-type', 'content-encoding', 'content-length', 'host'].includes(name)) throw new Error(`otlp sink: ?${key}= cannot be set`);
    headers[name] = safeHeader(`?${key}=`, q.get(key)!);
    q.delete(key);
  }
  if (env.TAILSHIP_OTLP_AUTHORIZATION) headers.authorization = safeHeader('TAILSHIP_OTLP_AUTHORIZATION', env.TAILSHIP_OTLP_AUTHORIZATION);
  const base = url.pathname.replace(/\/+$/, '');
  return {
    client: { origin: url.origin, display: `otlp ${url.origin}`, headers, ...transport, maxBodyBytes: 1 << 20 },
    path: base.endsWith('/v1/logs') ? base : `${base}/v1/logs`,
  };
}

/** Resource attributes of a batch: its tags, the reserved ones under their OpenTelemetry names. */
export function resourceOf(batch: Batch): KeyValue[] {
  const out: KeyValue[] = [['service.name', { string: 'kube-apiserver' }]];
  const put = (k: string, v: string | undefined) => v !== undefined && out.push([k, { string: v }]);
  for (const [k, v] of Object.entries(batch.tags)) {
    if (k === '__hostname__') {
      put('host.name', v);
      put('k8s.node.name', v);
    } else if (k === '__path__') put('log.file.path', v);
    else if (k === '__cluster_id__') put('k8s.cluster.name', v);
    else put(k, v);
  }
  put('tailship.logstore', batch.logstore);
  put('tailship.project', batch.project);
  put('tailship.product', batch.product);
  return out;
}

/**
 * One LogRecord per event, the batch's tags as resource attributes. 2xx = acknowledged, unless the answer is a
 * partial success with `rejected_log_records` > 0: the receiver keeps the others and says not to retry, and does
 * not say which it refused, so the batch goes to the dead-letter spool with its message and is acknowledged.
 * 429 and 5xx retry honouring Retry-After; 400 (bad data) is rejected.
 */
export function createOtlpSink(uri: URL, ctx: OtlpSinkContext): Sink {
  const o = parseOtlpUri(uri, ctx.env);
  const client = createStoreClient(o.client);
  const authFix = 'set TAILSHIP_OTLP_AUTHORIZATION or ?header.NAME= to what the receiver expects';

  async function send(batch: Batch, signal?: AbortSignal): Promise<void> {
    const records = batch.events.map((event) => toOtel({ event, tags: batch.tags, eventId: eventIdOf(event, batch.tags) }));
    const body = encodeExportLogsRequest({ resource: resourceOf(batch), scope: SCOPE, records });
    const where = `${o.client.display}${o.path} (batch ${batch.id}, ${records.length} records)`;
    const reply = await client.post(o.path, body, { 'content-type': 'application/x-protobuf' }, signal);
    if (reply.status < 200 || reply.status >= 300) throw otlpError(where, reply, authFix);
    const partial = reply.body.length > 0 ? decodePartialSuccess(reply.body) : undefined;
    if (!partial || partial.rejected <= 0) {
      if (partial?.message) ctx.logger.warn({ sink: 'otlp' }, `OTLP receiver warns: ${partial.message}`);
      return;
    }
    const err = new SinkError('rejected', ErrorCodes.SINK_OTLP_PARTIAL_REJECTED, `OTLP receiver rejected ${partial.rejected} of ${records.length} log records (which ones it does not say; the whole batch is kept): ${partial.message}`, {
      statusCode: reply.status, responseBody: partial.message,
    });
    if (!ctx.deadLetter) throw err;
    await ctx.deadLetter.write(batch, err, 'otlp');
  }

  return { name: 'otlp', send, close: () => client.close() };
}

function otlpError(where: string, reply: StoreReply, authFix: string): SinkError {
  // The body is a google.rpc.Status. OTLP calls only 429/502/503/504 retryable; every 5xx is retried here
  // all the same: a collector answering 500 while overloaded must not send audit events to the spool.
  const message = reply.body.length > 0 ? decodeStatusMessage(reply.body) : undefined;
  const shown: StoreReply = message ? { ...reply, body: Buffer.from(message) } : reply;
  return statusError(where, shown, ErrorCodes.SINK_OTLP_EXPORT_FAILED, authFix);
}
