import type { ShipEvent } from '../parse/ship-event.js';

/**
 * Renders one log as a JSON object text (SPEC §3): the event's own object, or `{"content": line}`, with
 * `__time__` and, when `tagJson` is given, `__tag__` appended. String concatenation instead of
 * parse + stringify: the event was already validated as one JSON object when it was parsed.
 *
 * `tagJson` is the pre-serialised `__tag__` object text (see tagObjectJson) or undefined for none.
 */
export function renderLog(event: ShipEvent, tagJson: string | undefined): string {
  const tail = tagJson === undefined ? `"__time__":${event.time}}` : `"__time__":${event.time},"__tag__":${tagJson}}`;
  if (!event.isObject) return `{"content":${JSON.stringify(event.raw)},${tail}`;
  const raw = event.raw;
  // An event that carries its own reserved keys: rebuild it so that ours replace them (no duplicate keys).
  if (raw.includes('"__time__"') || raw.includes('"__tag__"')) {
    const obj = JSON.parse(raw) as Record<string, unknown>;
    delete obj.__time__;
    delete obj.__tag__;
    return renderObject(obj, tail);
  }
  const close = raw.lastIndexOf('}');
  const body = raw.slice(0, close).trimEnd();
  // `{}` (nothing but whitespace after the brace) needs no comma.
  return body.length === 1 ? `{${tail}` : `${body},${tail}`;
}

function renderObject(obj: Record<string, unknown>, tail: string): string {
  const text = JSON.stringify(obj);
  return text === '{}' ? `{${tail}` : `${text.slice(0, -1)},${tail}`;
}

/** `__tag__` object text for a log: the batch's shared tags, then the log's own markers. */
export function tagObjectJson(shared: Record<string, string> | undefined, markers: Record<string, string> | undefined): string | undefined {
  if (!shared && !markers) return undefined;
  if (!markers) return JSON.stringify(shared);
  if (!shared) return JSON.stringify(markers);
  return JSON.stringify({ ...shared, ...markers });
}
