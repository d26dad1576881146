import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';

const EVERY_MS = 30_000;
/** Nothing moved: one line this often at most, to show the agent is alive. */
const HEARTBEAT_MS = 10 * 60_000;
/** A lag above this counts as a backlog worth a progress line (backfill, catch-up after a restart). */
const BACKLOG_BYTES = 16 << 20;

/** The operator's view: an info line every 30 s with rates and lag, and backlog progress with an ETA. */
export class ProgressReporter {
  readonly #logger: Logger;
  readonly #metrics: Metrics;
  /** How many files are followed now. */
  readonly #files: () => number;
  #last = { at: Date.now(), events: 0, bytes: 0, retries: 0 };
  #backlogStart = 0;
  #loggedAt = 0;
  readonly #state: { pending(): number; paused(): boolean };

  constructor(logger: Logger, metrics: Metrics, files: () => number, state: { pending(): number; paused(): boolean } = { pending: () => 0, paused: () => false }) {
    this.#logger = logger;
    this.#metrics = metrics;
    this.#files = files;
    this.#state = state;
  }

  tick(_caughtUp: boolean): void {
    const now = Date.now();
    if (now - this.#last.at < EVERY_MS) return;
    void this.#report(now);
  }

  async #report(now: number): Promise<void> {
    const m = this.#metrics;
    const events = await total(m.eventsShipped);
    const bytes = await total(m.bytesRead);
    const retries = await total(m.batchRetries);
    const secs = (now - this.#last.at) / 1000;
    let lag = 0;
    for (const v of (await m.fileLag.get()).values) lag += v.value;
    const eventsPerSec = Math.round((events - this.#last.events) / secs);
    const bytesPerSec = Math.round((bytes - this.#last.bytes) / secs);
    const fields: Record<string, unknown> = {
      eventsPerSec,
      bytesPerSec,
      lagBytes: lag,
      retries: retries - this.#last.retries,
      files: this.#files(),
    };
    const moved = events !== this.#last.events || bytes !== this.#last.bytes || retries !== this.#last.retries;
    this.#last = { at: now, events, bytes, retries };
    if (!moved && now - this.#loggedAt < HEARTBEAT_MS) return;
    this.#loggedAt = now;
    const pending = this.#state.pending();
    if (this.#state.paused() && eventsPerSec === 0 && pending > 0) {
      // Reading waits for acknowledgements: no catching up and no ETA while the store does not answer.
      this.#logger.info({ ...fields, pendingBatches: pending }, `paused: the store is not acknowledging (${pending} batches waiting)`);
      return;
    }
    if (lag > BACKLOG_BYTES) {
      this.#backlogStart = Math.max(this.#backlogStart, lag);
      fields.backlogPercentDone = Math.round((100 * (this.#backlogStart - lag)) / this.#backlogStart);
      fields.etaSeconds = bytesPerSec > 0 ? Math.round(lag / bytesPerSec) : null;
    } else this.#backlogStart = 0;
    this.#logger.info(fields, lag > BACKLOG_BYTES ? 'catching up on a backlog' : moved ? 'progress' : 'progress (idle: nothing moved)');
  }
}

async function total(metric: { get(): Promise<{ values: Array<{ value: number }> }> }): Promise<number> {
  let n = 0;
  for (const v of (await metric.get()).values) n += v.value;
  return n;
}
