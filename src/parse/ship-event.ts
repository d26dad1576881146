/**
 * One log on its way to a store. Kept close to the bytes read: `raw` is the line text, and sinks render it
 * (file/http by string concatenation, SLS by re-parsing) so that a batch in flight costs about its raw size.
 */
export interface ShipEvent {
  /** The line as read, without its newline (and without a trailing CR). */
  raw: string;
  /** True when `raw` is one JSON object (a JSON input whose line parsed). Otherwise ship `{"content": raw}`. */
  isObject: boolean;
  /** Unix seconds of the event (`stageTimestamp`, else `requestReceivedTimestamp`, else read time). */
  time: number;
  /** Nanosecond part of the event time. */
  timeNs: number;
  /** Per-log markers that go in the log's own `__tag__`: `__truncated__`, `__parse_error__`. */
  markers?: Record<string, string>;
}
