import { createHash } from 'node:crypto';
import type { Registry } from 'prom-client';
import { tallyByLabel } from '../observe/counter-tally.js';
import type { ShipEvent } from '../parse/ship-event.js';
import type { EventProcessor } from '../process/stage.js';
import { spliceSpans, type Span } from './json-scan.js';
import { topFields } from './json-top.js';
import { isObj, type Obj } from './redact/masker.js';
import { auditStageMetrics } from './metrics-registry.js';

/**
 * Keep-but-trim (`--max-event-bytes N`, SPEC §6): an event whose JSON is larger than N bytes is trimmed, never
 * dropped and never cut mid-JSON. First `managedFields` (of both bodies, and of each item of a list), then the
 * larger of responseObject / requestObject is replaced by `{"__trimmed__":{"bytes":B,"sha256":"HEX"}}` (B and
 * HEX of that body's compact JSON as it was when replaced), then the other, until it fits. The log gets the
 * marker `__trimmed__`: what was trimmed (`managedFields`, `responseObject`, `requestObject`, comma-separated).
 * Only the bodies are parsed and re-serialised; every other byte of the event stays as it was.
 */

const BODIES = ['requestObject', 'responseObject'] as const;

export function utf8Length(s: string): number {
  // a UTF-16 unit is at most 3 UTF-8 bytes: count exactly only when the cheap bounds do not decide
  return Buffer.byteLength(s, 'utf8');
}

/** The event as is when its line fits in `max` bytes; decided without counting when its length alone decides. */
function fits(raw: string, max: number): boolean {
  if (raw.length > max) return false;
  if (raw.length * 3 <= max) return true;
  return utf8Length(raw) <= max;
}

function stripManagedFields(body: unknown): { value: unknown; changed: boolean } {
  if (!isObj(body)) return { value: body, changed: false };
  let out: Obj = body;
  let changed = false;
  const meta = body.metadata;
  if (isObj(meta) && 'managedFields' in meta) {
    const { managedFields: _drop, ...rest } = meta;
    void _drop;
    out = { ...out, metadata: rest };
    changed = true;
  }
  if (Array.isArray(body.items)) {
    let itemsChanged = false;
    const items = body.items.map((item) => {
      const r = stripManagedFields(item);
      if (r.changed) itemsChanged = true;
      return r.value;
    });
    if (itemsChanged) {
      out = { ...out, items };
      changed = true;
    }
  }
  return { value: out, changed };
}

export function trimMarker(compactJson: string): string {
  const bytes = utf8Length(compactJson);
  const sha256 = createHash('sha256').update(compactJson, 'utf8').digest('hex');
  return `{"__trimmed__":{"bytes":${bytes},"sha256":"${sha256}"}}`;
}

/** The trimmed event, or the same event when it fits or has nothing to trim. */
export function trimEvent(event: ShipEvent, max: number): ShipEvent {
  if (!event.isObject || fits(event.raw, max)) return event;
  const raw = event.raw;
  const top = topFields(raw);
  if (!top) return event;
  const done: string[] = [];
  // the bodies as compact JSON, managedFields stripped first
  const bodies: Array<{ name: string; span: Span; text: string; bytes: number; changed: boolean; marker?: string }> = [];
  let stripped = false;
  for (const name of BODIES) {
    const span = top.get(name);
    if (!span) continue;
    const value: unknown = JSON.parse(raw.slice(span.start, span.end));
    const r = stripManagedFields(value);
    if (r.changed) stripped = true;
    const text = JSON.stringify(r.value);
    bodies.push({ name, span, text, bytes: utf8Length(text), changed: r.changed });
  }
  if (bodies.length === 0) return event;
  const replaced = new Set<string>();
  // a body neither stripped nor replaced keeps its bytes
  const current = (): string =>
    spliceSpans(
      raw,
      bodies.filter((b) => b.changed || replaced.has(b.name)).map((b) => ({ span: b.span, text: replaced.has(b.name) ? (b.marker ??= trimMarker(b.text)) : b.text })),
    );
  let out = stripped ? current() : raw;
  if (stripped) done.push('managedFields');
  // the larger body first, then the other
  const order = [...bodies].sort((a, b) => b.bytes - a.bytes);
  for (const b of order) {
    if (fits(out, max)) break;
    replaced.add(b.name);
    done.push(b.name);
    out = current();
  }
  if (done.length === 0) return event;
  return { ...event, raw: out, markers: { ...event.markers, __trimmed__: done.join(',') } };
}

/** `--max-event-bytes N`: the stage, or undefined when N is 0 (off). */
export function createTrimStage(maxEventBytes: number, deps: { registry: Registry }): EventProcessor | undefined {
  if (!(maxEventBytes > 0)) return undefined;
  const trimmedOf = tallyByLabel(auditStageMetrics(deps.registry).trimmed, 'input');
  return (event, ctx) => {
    const out = trimEvent(event, maxEventBytes);
    if (out !== event) trimmedOf(ctx.inputKey).n++;
    return out;
  };
}
