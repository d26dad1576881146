import { renderEvent, takeSchemaParams, type SchemaChoice } from '../schema/index.js';
import type { BodyRender } from './body-render.js';

/**
 * The body shapes of the `http(s)://` sink besides SPEC §3's batch body, chosen by the URI:
 * - `?format=eventlist`: an `audit.k8s.io/v1` EventList, the body kube-apiserver's webhook backend sends, for
 *   webhook consumers (Falco's k8saudit plugin…): items are the events as read, no `__time__` / `__tag__`. gzip
 *   is off unless `?gzip=` asks for it, since those consumers take what the API server sends (no Content-Encoding).
 * - `?schema=ecs|ocsf|otel`: the SPEC §3 batch body whose `logs` are documents of that schema.
 */
export interface HttpRender {
  /** The sink URL without `format`, `schema`, `bodies` (and with `gzip=false` for an EventList unless given). */
  url: URL;
  body: BodyRender;
}

export const EVENTLIST_HEAD = '{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[';

/** Reads `?format=` / `?schema=` / `?bodies=`; undefined when the default body is asked for. Throws what to fix. */
export function takeHttpRender(input: URL): HttpRender | undefined {
  const url = new URL(input.href);
  const q = url.searchParams;
  const format = q.get('format');
  if (format === null && q.get('schema') === null && q.get('bodies') === null) return undefined;
  q.delete('format');
  const choice = takeSchemaParams(url);
  if (format !== null && format !== 'eventlist' && format !== 'batch') {
    throw new Error(`http sink: ?format=${format} is not known: use ?format=eventlist (an audit.k8s.io/v1 EventList) or leave it out`);
  }
  if (format === 'eventlist') {
    if (choice.schema !== 'raw') throw new Error(`http sink: ?format=eventlist sends the events as they are; remove ?schema=${choice.schema}`);
    if (!q.has('gzip')) q.set('gzip', 'false');
    return { url, body: EVENTLIST_BODY };
  }
  if (choice.schema === 'raw') return undefined;
  return { url, body: schemaBatchBody(choice) };
}

/** Each event that is one JSON object, verbatim; a line that is not (not an Event) has no place in an EventList. */
export const EVENTLIST_BODY: BodyRender = {
  sizeHint: (batch) => EVENTLIST_HEAD.length + batch.rawBytes + batch.events.length + 4,
  *write(batch, w) {
    w.write(EVENTLIST_HEAD);
    let first = true;
    for (const e of batch.events) {
      if (!e.isObject) continue;
      if (!first) w.write(',');
      first = false;
      w.write(e.raw.trim());
      yield;
    }
    w.write(']}');
  },
};

function schemaBatchBody(choice: SchemaChoice): BodyRender {
  return {
    sizeHint: (batch) => batch.rawBytes * 2 + 1024,
    *write(batch, w) {
      let head = `{"logstore":${JSON.stringify(batch.logstore)}`;
      if (batch.project !== undefined) head += `,"project":${JSON.stringify(batch.project)}`;
      if (batch.product !== undefined) head += `,"product":${JSON.stringify(batch.product)}`;
      head += `,"source":${JSON.stringify(batch.source)},"tags":${JSON.stringify(batch.tags)},"schema":${JSON.stringify(choice.schema)},"logs":[`;
      w.write(head);
      const events = batch.events;
      for (let i = 0; i < events.length; i++) {
        if (i > 0) w.write(',');
        w.write(renderEvent(choice, events[i]!, batch.tags));
        yield;
      }
      w.write(']}');
    },
  };
}
