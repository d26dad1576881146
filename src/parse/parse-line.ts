import type { ShipEvent } from './ship-event.js';

/**
 * A line becomes a ShipEvent here and nowhere else. JSON inputs are parsed once to validate the line and take
 * its time; the parsed object is dropped again (sinks render from `raw`), keeping batches at raw size.
 */
export function parseLine(text: string, truncated: boolean, json: boolean, nowMs: number): ShipEvent {
  if (truncated) {
    return { raw: text, isObject: false, ...splitTime(nowMs), markers: { __truncated__: 'true' } };
  }
  if (!json) return { raw: text, isObject: false, ...splitTime(nowMs) };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return invalid(text, nowMs, `invalid JSON: ${(e as Error).message}`.slice(0, 200));
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return invalid(text, nowMs, `not a JSON object (${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value})`);
  }
  const obj = value as Record<string, unknown>;
  const t = eventTime(obj.stageTimestamp) ?? eventTime(obj.requestReceivedTimestamp);
  return { raw: text, isObject: true, ...(t ?? splitTime(nowMs)) };
}

function invalid(text: string, nowMs: number, reason: string): ShipEvent {
  return { raw: text, isObject: false, ...splitTime(nowMs), markers: { __parse_error__: reason } };
}

function splitTime(ms: number): { time: number; timeNs: number } {
  const time = Math.floor(ms / 1000);
  return { time, timeNs: Math.round((ms - time * 1000) * 1e6) };
}

/** RFC 3339 with up to nanosecond digits (`2019-05-08T12:46:52.812735Z`), keeping the sub-millisecond part. */
export function eventTime(v: unknown): { time: number; timeNs: number } | undefined {
  if (typeof v !== 'string') return undefined;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) return undefined;
  const time = Math.floor(ms / 1000);
  const frac = /\.(\d+)/.exec(v);
  const timeNs = frac ? Number((frac[1]! + '000000000').slice(0, 9)) : 0;
  return { time, timeNs };
}
