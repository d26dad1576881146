/**
 * Everything tail/ reports, in one interface: the agent maps it onto metrics and the log, tests pass a recorder.
 * tail/ imports neither the logger nor the metrics.
 */
export interface TailSignals {
  /** Bytes read from files (before framing). */
  bytesRead(bytes: number): void;
  /** Bytes that will never be read (deleted or truncated before they were); 0 when the amount is unknown. */
  bytesLost(bytes: number): void;
  /** A checkpointed file of `input` disappeared before it was read to its end (bytes known or not). */
  fileLost?(input: string): void;
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

/** Signals that go nowhere (tests that do not look at them). */
export const quietSignals: TailSignals = {
  bytesRead: () => undefined,
  bytesLost: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
