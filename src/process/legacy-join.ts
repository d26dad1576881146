// SPEC §9 as a stage: a legacy text audit line (a parse error of a JSON input) becomes an audit.k8s.io/v1 Event;
// the pre-1.7 request line is held until its response line comes (joined, stage ResponseComplete) or until a
// line more than 5 s later (log time) shows that it will not (shipped alone, tag __unpaired__).
//
// A held line's bytes are acknowledged with its batch (the stage returns null), so before returning it is
// written to a pending file in the state dir and fdatasync'd: a restart loads it and the join still happens, also
// when the response line is in the next file after a rotation. Releasing a line appends a removal record naming
// the stream and offset of the line whose batch ships it; at load a removal counts only once the checkpoint is
// past that offset, so a crash before that batch was acknowledged re-reads the line and releases it again, and a
// crash after it never ships the held line a second time. Removals need no fsync: after a power loss one could be
// lost, and the held line would then be shipped twice (a duplicate, never a loss).
//
// An idle stream keeps its held request lines until its next line (any input line moves the clock) or the
// next start; nothing is released on a timer, because the stage runs only when a line is read.
import path from 'node:path';
import { loadCheckpoints } from '../checkpoint/checkpoint-store.js';
import { legacyKind, looksLegacy, parseLegacyLine, toEvent, type LegacyLine } from '../parse/legacy.js';
import type { ShipEvent } from '../parse/ship-event.js';
import { ownString } from '../parse/own-string.js';
import { openPendingLines, type PendingLines } from './legacy-pending.js';
import type { EventContext, EventProcessor, ProcessorResult } from './stage.js';

export const PAIR_TIMEOUT_MS = 5000;

export interface LegacyJoinOptions {
  stateDir: string;
  inputKey: string;
  /** TAILSHIP_LEGACY_KEEP_RAW=true: the original line(s) in `__legacy__`. */
  keepRaw: boolean;
  pairTimeoutMs?: number;
  /** Committed offsets by stream id (default: the checkpoint file in the state dir). */
  committed?: () => Map<string, number>;
}

export function legacyPendingPath(stateDir: string, inputKey: string): string {
  return path.join(stateDir, 'legacy-pending', `${inputKey}.log`);
}

function checkpointOffsets(stateDir: string): Map<string, number> {
  return new Map(loadCheckpoints(stateDir).streams.map((r) => [r.id, r.offset]));
}

/** Builds the legacy conversion stage of one input; loads its pending request lines from the state dir. */
export function createLegacyJoin(opts: LegacyJoinOptions): EventProcessor {
  const timeout = opts.pairTimeoutMs ?? PAIR_TIMEOUT_MS;
  const pending = openPendingLines(legacyPendingPath(opts.stateDir, opts.inputKey), opts.committed ?? (() => checkpointOffsets(opts.stateDir)));
  const withRaw = (obj: Record<string, unknown>, raw: string): Record<string, unknown> => (opts.keepRaw ? { ...obj, __legacy__: raw } : obj);

  /** Request lines held longer than the timeout, measured in log time up to `nowMs`. */
  const expire = (nowMs: number, ctx: EventContext): ShipEvent[] => {
    const out: ShipEvent[] = [];
    for (const [id, h] of pending.held) {
      if (nowMs - h.at <= timeout) continue;
      pending.release(id, ctx.stream, ctx.offset);
      out.push(shipEvent(withRaw(toEvent(h.line), h.raw), { __unpaired__: 'true' }));
    }
    return out;
  };

  const convert = (event: ShipEvent, ctx: EventContext): ProcessorResult => {
    const line = parseLegacyLine(event.raw);
    if (!line) return event;
    if ('error' in line) return { ...event, markers: { ...event.markers, __parse_error__: line.error } };
    const nowMs = line.sec * 1000 + line.ns / 1e6;
    const current = joinLine(event, line, nowMs, ctx, pending, withRaw);
    const expired = pending.held.size > 0 ? expire(nowMs, ctx) : [];
    pending.compactIfLarge();
    if (expired.length === 0) return current;
    return current ? [...expired, current] : expired;
  };

  return (event, ctx) => {
    if (event.isObject || !event.markers?.__parse_error__ || !looksLegacy(event.raw)) {
      if (pending.held.size === 0) return event;
      // Any line moves the clock: release what waited too long, with this event.
      const expired = expire(event.time * 1000 + event.timeNs / 1e6, ctx);
      return expired.length === 0 ? event : [...expired, event];
    }
    return convert(event, ctx);
  };
}

/** One legacy line: a stage line is an event, a request line is held (null), a response line ships joined or alone. */
function joinLine(
  event: ShipEvent,
  line: LegacyLine,
  nowMs: number,
  ctx: EventContext,
  pending: PendingLines,
  withRaw: (obj: Record<string, unknown>, raw: string) => Record<string, unknown>,
): ShipEvent | null {
  const id = line.fields.get('id')!;
  switch (legacyKind(line)) {
    case 'stage':
      return shipEvent(withRaw(toEvent(line), event.raw), markersOf(event));
    case 'request':
      if (pending.held.get(id)?.raw !== event.raw) {
        // Durable before its bytes can be acknowledged (a line re-read after a restart is held already).
        const own = ownLine(line);
        pending.hold(own.fields.get('id')!, { raw: ownString(event.raw), line: own, at: nowMs });
      }
      return null;
    case 'response': {
      const req = pending.held.has(id) ? pending.release(id, ctx.stream, ctx.offset) : undefined;
      const obj = toEvent(req?.line, line);
      return shipEvent(withRaw(obj, req ? `${req.raw}\n${event.raw}` : event.raw), markersOf(event, req ? undefined : { __unpaired__: 'true' }));
    }
  }
}

function shipEvent(obj: Record<string, unknown>, markers: Record<string, string> | undefined): ShipEvent {
  const t = Date.parse(obj.stageTimestamp as string);
  const frac = /\.(\d+)Z$/.exec(obj.stageTimestamp as string);
  return {
    raw: JSON.stringify(obj),
    isObject: true,
    time: Math.floor(t / 1000),
    timeNs: frac ? Number((frac[1]! + '000000000').slice(0, 9)) : 0,
    ...(markers ? { markers } : {}),
  };
}

/** The event's markers for the converted event: its own, less the parse error, plus `extra`. */
function markersOf(event: ShipEvent, extra?: Record<string, string>): Record<string, string> | undefined {
  const rest = { ...event.markers };
  delete rest.__parse_error__;
  const out = { ...rest, ...extra };
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A held line outlives its batch: its texts are copied, not slices of the line they were read in (own-string.ts). */
function ownLine(line: LegacyLine): LegacyLine {
  const fields = new Map<string, string>();
  for (const [k, v] of line.fields) fields.set(ownString(k), ownString(v));
  return { ...line, time: ownString(line.time), fields };
}
