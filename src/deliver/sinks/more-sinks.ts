import type { CreateSinkContext } from '../sink-context.js';
import type { Sink } from '../sink.js';
import { createElasticsearchSink } from './elasticsearch/elasticsearch-sink.js';
import { createLokiSink } from './loki/loki-sink.js';
import { createOtlpSink } from './otlp/otlp-sink.js';

/** The URIs of issue 14's stores; undefined when `text` is none of them. Throws an Error saying what to fix. */
export function createMoreSink(text: string, ctx: CreateSinkContext): Sink | undefined {
  const scheme = /^([a-z]+)\+(https?):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (!scheme) return undefined;
  const url = (): URL => {
    try {
      return new URL(text);
    } catch {
      throw new Error(`invalid sink "${text.split('?')[0]}": not a valid URL`);
    }
  };
  switch (scheme) {
    case 'elasticsearch':
    case 'opensearch':
      return createElasticsearchSink(url(), ctx);
    case 'loki':
      return createLokiSink(url(), ctx);
    case 'otlp':
      return createOtlpSink(url(), ctx);
    default:
      return undefined;
  }
}
