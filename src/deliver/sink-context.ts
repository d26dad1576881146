import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import type { DeadLetterSpool } from './dead-letter.js';

/** What every sink is built with (its own module, so that sink families and createSink import it without a cycle). */
export interface CreateSinkContext {
  logger: Logger;
  metrics: Metrics;
  env: Record<string, string | undefined>;
  stateDir: string;
  /** Base of a relative `file:DIR`. Default process.cwd(). */
  cwd?: string;
  /** The agent's dead-letter spool: stores that refuse single items (Elasticsearch, Loki, OTLP) spool those. */
  deadLetter?: DeadLetterSpool;
}
