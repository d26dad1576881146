import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { maskSinkUri } from './mask-uri.js';
import type { Sink } from './sink.js';
import type { CreateSinkContext } from './sink-context.js';
import { sinkUriError } from './sink-config-error.js';
import { createFileSink, parseFileSinkParams } from './sinks/file-sink.js';
import { createHttpSink } from './sinks/http-sink.js';
import { createSlsSink } from './sinks/sls/sls-sink.js';
import { createStdoutSink } from './sinks/stdout-sink.js';
import { createMoreSink } from './sinks/more-sinks.js';
import { createClickHouseSink } from './sinks/clickhouse/clickhouse-sink.js';
import { createSyslogSink } from './sinks/syslog/syslog-sink.js';

export type { CreateSinkContext } from './sink-context.js';

export const SINK_FORMS = 'file:DIR, stdout:, http://HOST[:PORT]/PATH, https://HOST[:PORT]/PATH, sls://ENDPOINT or sls+http://ENDPOINT, elasticsearch+http(s)://HOST:PORT/INDEX, opensearch+http(s)://…, loki+http(s)://HOST:PORT, otlp+http(s)://HOST:PORT, clickhouse+http(s)://HOST:PORT/DATABASE.TABLE, syslog+tcp://HOST:PORT, syslog+tls://HOST:PORT';

/**
 * `--sink URI` (SPEC §3) → a Sink. Throws an Error that names the accepted forms when the URI is not one of them,
 * or says what is wrong with its parameters (the CLI exits 2 with it).
 */
export function createSink(uri: string, ctx: CreateSinkContext): Sink {
  const text = uri.trim();
  if (text.startsWith('file:')) {
    // `?max-files=N&max-bytes=N`: retention of the output files (file-sink.ts).
    const q = text.indexOf('?');
    const rest = text.slice('file:'.length, q < 0 ? undefined : q);
    if (rest === '') throw sinkUriError(`invalid sink "file:": give a directory, e.g. file:./tailship-out (accepted: ${SINK_FORMS})`);
    const dir = rest.startsWith('//') ? fileURLToPath(`file:${rest}`) : resolve(ctx.cwd ?? process.cwd(), rest);
    return createFileSink(dir, ctx, parseFileSinkParams(q < 0 ? '' : text.slice(q + 1)));
  }
  if (text === 'stdout:' || text === 'stdout') return createStdoutSink(ctx);
  if (/^https?:\/\//i.test(text)) {
    const url = parseUrl(text, '');
    if (!url.hostname) throw sinkUriError(`invalid sink "${maskSinkUri(text)}": no host (accepted: ${SINK_FORMS})`);
    return createHttpSink(url, ctx);
  }
  // issue 14 stores (helper `sinks`): Elasticsearch / OpenSearch, Loki, OTLP
  const more = createMoreSink(text, ctx);
  if (more) return more;
  if (/^sls(\+http)?:\/\//i.test(text)) {
    return createSlsSink(parseUrl(text, ', e.g. sls://cn-hangzhou.log.aliyuncs.com?project=k8s-log-c123'), ctx);
  }
  // ClickHouse and syslog stores (SPEC §10)
  if (/^clickhouse\+https?:\/\//i.test(text)) return createClickHouseSink(text, ctx);
  if (/^syslog\+(tcp|tls):\/\//i.test(text)) return createSyslogSink(text, ctx);
  throw sinkUriError(`invalid sink "${maskSinkUri(text)}": accepted forms are ${SINK_FORMS}`);
}

function parseUrl(text: string, example: string): URL {
  try {
    return new URL(text);
  } catch {
    throw sinkUriError(`invalid sink "${maskSinkUri(text)}": not a valid URL${example} (accepted: ${SINK_FORMS})`);
  }
}
