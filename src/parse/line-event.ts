import type { ShipEvent } from './ship-event.js';
import type { RawLine } from './raw-line.js';
import { parseLine } from './parse-line.js';
import { runProcessors, type EventProcessor } from '../process/stage.js';

/** Where a line's events go: the batcher's `add` (bytes [start, end) of a stream; `event` undefined = no log). */
export type AddToBatch = (stream: string, start: number, end: number, event: ShipEvent | undefined, bytes: number, now: number) => void;

/** What one lane's lines need to become events (made once per lane): JSON flag, stages, their context, the batch. */
export interface LineSource {
  inputKey: string;
  json: boolean;
  stages: readonly EventProcessor[];
  tags: Readonly<Record<string, string>>;
  add: AddToBatch;
}

/** Counts and warnings of this step (the agent maps them onto metrics and the log). */
export interface LineSignals {
  invalid(): void;
  truncated(line: RawLine, bytes: number): void;
  /** The line's bytes were not UTF-8 (replaced by U+FFFD, tagged `__invalid_utf8__`). */
  invalidUtf8(line: RawLine): void;
}

/**
 * The one place where a line's bytes become events (SPEC §6): parse, then the input's stages, then the batch.
 * An empty line carries no event but its bytes still go to the batch, so acknowledged ranges tile the file.
 * A stage that drops the event still acknowledges its bytes; a stage that returns several events gives the
 * first one the line's bytes and the rest zero-length ranges at the line's end.
 */
export function lineToEvents(src: LineSource, stream: string, line: RawLine, signals: LineSignals, now: () => number): void {
  const add = src.add;
  const bytes = line.end - line.start;
  let event: ShipEvent | undefined;
  if (line.text.length > 0 || line.truncated) {
    event = parseLine(line.text, line.truncated, src.json, now());
    if (line.truncated) signals.truncated(line, bytes);
    if (line.invalidUtf8) {
      event.markers = { ...event.markers, __invalid_utf8__: 'true' };
      signals.invalidUtf8(line);
    }
  }
  const out =
    event && src.stages.length > 0
      ? runProcessors(src.stages, event, { inputKey: src.inputKey, stream, offset: line.start, tags: src.tags })
      : event;
  // Counted after the stages: a legacy text line that a stage turned into an Event is not invalid.
  if (event?.markers?.__parse_error__) {
    for (const e of Array.isArray(out) ? out : out ? [out] : []) if (e.markers?.__parse_error__) signals.invalid();
  }
  if (Array.isArray(out)) {
    const t = now();
    if (out.length === 0) add(stream, line.start, line.end, undefined, bytes, t);
    out.forEach((e, i) => add(stream, i === 0 ? line.start : line.end, line.end, e, i === 0 ? bytes : 0, t));
  } else {
    add(stream, line.start, line.end, out ?? undefined, bytes, now());
  }
}
