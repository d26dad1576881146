import type { Batch } from '../../../batch/batch.js';
import { ErrorCodes } from '../../../errors.js';
import type { Logger } from '../../../observe/log.js';
import { takeSchemaParams, type SchemaChoice } from '../../../schema/index.js';
import type { DeadLetterSpool } from '../../dead-letter.js';
import { SinkError, type Sink } from '../../sink.js';
import { createStoreClient, oneLine, safeHeader, statusError, takeTransportParams, type StoreClientOptions } from '../store-client.js';
import { eventNs, labelName, pushBody, refusedEntries, streamLabels } from './push.js';

export interface LokiSinkContext {
  logger: Logger;
  env: Record<string, string | undefined>;
  deadLetter?: DeadLetterSpool;
}

interface LokiOptions {
  client: StoreClientOptions;
  path: string;
  schema: SchemaChoice;
  /** `?label.NAME=VALUE`: a fixed label added to every stream. */
  labels: Record<string, string>;
}

/**
 * `loki+http(s)://HOST:PORT[/PATH]` (SPEC §10). Tenant from `TAILSHIP_LOKI_TENANT` (`X-Scope-OrgID`); auth
 * from `TAILSHIP_LOKI_USERNAME` / `TAILSHIP_LOKI_PASSWORD` (Basic) or `TAILSHIP_LOKI_BEARER_TOKEN`.
 */
export function parseLokiUri(uri: URL, env: Record<string, string | undefined>): LokiOptions {
  const scheme = uri.protocol.endsWith('+https:') ? 'https:' : 'http:';
  const url = new URL(uri.href.replace(/^loki\+https?:/i, scheme));
  if (!url.hostname) throw new Error('loki sink: no host; e.g. loki+http://127.0.0.1:3100');
  if (url.username || url.password) throw new Error('loki sink: put no credentials in the URI; set TAILSHIP_LOKI_USERNAME / TAILSHIP_LOKI_PASSWORD or TAILSHIP_LOKI_BEARER_TOKEN');
  const q = url.searchParams;
  const transport = takeTransportParams(q, 'loki sink');
  const schema = takeSchemaParams(url, 'raw');
  const labels: Record<string, string> = {};
  for (const key of [...q.keys()]) {
    if (!key.startsWith('label.')) throw new Error(`loki sink: unknown parameter ?${key}=; known: label.NAME, schema, bodies, gzip, timeout, ca, insecure, policy, redact, name`);
    labels[labelName(key.slice('label.'.length))] = q.get(key)!;
    q.delete(key);
  }
  const base = url.pathname.replace(/\/+$/, '');
  const headers: Record<string, string> = {};
  if (env.TAILSHIP_LOKI_TENANT) headers['x-scope-orgid'] = safeHeader('TAILSHIP_LOKI_TENANT', env.TAILSHIP_LOKI_TENANT);
  if (env.TAILSHIP_LOKI_BEARER_TOKEN) headers.authorization = `Bearer ${safeHeader('TAILSHIP_LOKI_BEARER_TOKEN', env.TAILSHIP_LOKI_BEARER_TOKEN)}`;
  else if (env.TAILSHIP_LOKI_USERNAME) {
    headers.authorization = `Basic ${Buffer.from(`${safeHeader('TAILSHIP_LOKI_USERNAME', env.TAILSHIP_LOKI_USERNAME)}:${env.TAILSHIP_LOKI_PASSWORD ?? ''}`).toString('base64')}`;
  }
  return {
    client: { origin: url.origin, display: `loki ${url.origin}`, headers, ...transport, maxBodyBytes: 1 << 20 },
    path: `${base.endsWith('/loki/api/v1/push') ? base : `${base}/loki/api/v1/push`}`,
    schema,
    labels,
  };
}

/**
 * Loki push API, JSON. 204 = acknowledged. 429 and 5xx retry (Retry-After honoured). A 400 naming entries out of
 * order / too far behind means Loki stored the others and will refuse those forever: they go to the dead-letter
 * spool with Loki's reason (one record per refused entry) and the batch is acknowledged; retrying them would never
 * end. Any other 400 (labels, line too long) is a rejected batch.
 */
export function createLokiSink(uri: URL, ctx: LokiSinkContext): Sink {
  const o = parseLokiUri(uri, ctx.env);
  const client = createStoreClient(o.client);
  const authFix = 'set TAILSHIP_LOKI_TENANT, and TAILSHIP_LOKI_USERNAME / TAILSHIP_LOKI_PASSWORD or TAILSHIP_LOKI_BEARER_TOKEN, to what the Loki gateway expects';

  async function send(batch: Batch, signal?: AbortSignal): Promise<void> {
    const all = batch.events.map((_, i) => i);
    const { body, order } = pushBody(batch, all, streamLabels(batch, o.labels), o.schema);
    const where = `${o.client.display}${o.path} (batch ${batch.id}, ${order.length} entries)`;
    const reply = await client.post(o.path, body, { 'content-type': 'application/json' }, signal);
    if (reply.status >= 200 && reply.status < 300) return;
    const text = reply.body.toString('utf8');
    const refused = reply.status === 400 ? refusedEntries(text) : undefined;
    if (!refused) throw statusError(where, reply, ErrorCodes.SINK_LOKI_PUSH_FAILED, authFix);
    const wanted = new Set(refused.ns.map(String));
    const hit = order.filter((i) => wanted.has(eventNs(batch.events[i]!).toString()));
    // Loki lists a limited number of entries; when it names none we can match, keep the whole batch
    const lost = hit.length > 0 ? hit : order;
    const err = new SinkError('rejected', ErrorCodes.SINK_LOKI_ENTRIES_REJECTED, `Loki refused ${lost.length} entries for good (${refused.reason}): ${oneLine(text, 300)}`, {
      statusCode: 400, responseBody: text.slice(0, 4096),
    });
    if (!ctx.deadLetter) throw err;
    ctx.logger.warn({ sink: 'loki', batch: batch.id, refused: lost.length }, `Loki refused entries for good (${refused.reason}); they are in the dead-letter spool, the rest is stored`);
    for (const i of lost) {
      const e = batch.events[i]!;
      await ctx.deadLetter.write({ ...batch, id: `${batch.id}#${i}`, events: [e], rawBytes: Buffer.byteLength(e.raw) }, err, 'loki');
    }
  }

  return { name: 'loki', send, close: () => client.close() };
}
