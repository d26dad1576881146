import { takeSchemaParams, type SchemaChoice } from '../../../schema/index.js';
import { safeHeader, takeTransportParams, type StoreClientOptions } from '../store-client.js';

export interface EsOptions {
  flavour: 'elasticsearch' | 'opensearch';
  client: StoreClientOptions;
  /** Target index (or data stream); `{logstore}` is replaced by the batch's logstore. */
  index: string;
  pipeline?: string;
  schema: SchemaChoice;
}

/**
 * `elasticsearch+http(s)://HOST:PORT/INDEX` / `opensearch+…` (SPEC §10). Credentials come from the env, never the
 * URI: `TAILSHIP_ES_API_KEY` (ApiKey, base64 `id:key` as Elastic prints it) or `TAILSHIP_ES_USERNAME` and
 * `TAILSHIP_ES_PASSWORD` (Basic). Throws an Error that says what to fix.
 */
export function parseEsUri(uri: URL, env: Record<string, string | undefined>): EsOptions {
  const flavour = uri.protocol.startsWith('opensearch') ? 'opensearch' : 'elasticsearch';
  const what = `${flavour} sink`;
  const scheme = uri.protocol.endsWith('+https:') ? 'https:' : 'http:';
  const url = new URL(uri.href.replace(/^[a-z]+\+https?:/i, scheme));
  if (!url.hostname) throw new Error(`${what}: no host; e.g. ${flavour}+http://127.0.0.1:9200/k8s-audit`);
  if (url.username || url.password) throw new Error(`${what}: put no credentials in the URI; set TAILSHIP_ES_API_KEY, or TAILSHIP_ES_USERNAME and TAILSHIP_ES_PASSWORD`);
  const index = decodeURIComponent(url.pathname.replace(/^\/+|\/+$/g, ''));
  if (!index || index.includes('/')) throw new Error(`${what}: give one index or data stream as the path, e.g. ${flavour}+http://127.0.0.1:9200/k8s-audit`);
  if (/[A-Z\\*?"<>| ,#]/.test(index.replace('{logstore}', ''))) throw new Error(`${what}: "${index}" is not a valid index name (lowercase, no \\ / * ? " < > | space , #)`);
  const q = url.searchParams;
  const transport = takeTransportParams(q, what);
  const schema = takeSchemaParams(url, 'ecs');
  const pipeline = q.get('pipeline') ?? undefined;
  q.delete('pipeline');
  const left = [...q.keys()];
  if (left.length > 0) throw new Error(`${what}: unknown parameter ?${left[0]}=; known: pipeline, schema, bodies, gzip, timeout, ca, insecure, policy, redact, name`);

  const headers: Record<string, string> = {};
  const apiKey = env.TAILSHIP_ES_API_KEY;
  const user = env.TAILSHIP_ES_USERNAME;
  if (apiKey) headers.authorization = `ApiKey ${safeHeader('TAILSHIP_ES_API_KEY', apiKey)}`;
  else if (user) {
    const pass = env.TAILSHIP_ES_PASSWORD ?? '';
    headers.authorization = `Basic ${Buffer.from(`${safeHeader('TAILSHIP_ES_USERNAME', user)}:${pass}`).toString('base64')}`;
  }
  return {
    flavour,
    index,
    pipeline,
    schema,
    client: { origin: url.origin, display: `${flavour} ${url.origin}`, headers, ...transport, maxBodyBytes: 64 << 20 },
  };
}
