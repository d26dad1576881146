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
import { closeSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import { loadCheckpoints } from '../checkpoint/checkpoint-store.js';
import { legacyKind, looksLegacy, parseLegacyLine, toEvent, type LegacyLine } from '../parse/legacy.js';
import type { ShipEvent } from '../parse/ship-event.js';
import type { EventContext, EventProcessor, ProcessorResult } from './stage.js';

export const PAIR_TIMEOUT_MS = 5000;
const COMPACT_BYTES = 1 << 20;

export interface LegacyJoinOptions {
  stateDir: string;
  inputKey: string;
  /** TAILSHIP_LEGACY_KEEP_RAW=true: the original line(s) in `__legacy__`. */
  keepRaw: boolean;
  pairTimeoutMs?: number;
  /** Committed offsets by stream id (default: the checkpoint file in the state dir). */
  committed?: () => Map<string, number>;
}

interface Held {
  raw: string;
  line: LegacyLine;
  /** Unix ms of the line's time. */
  at: number;
}

interface Removal {
  id: string;
  raw: string;
  stream: string;
  offset: number;
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
  const file = legacyPendingPath(opts.stateDir, opts.inputKey);
  const committed = opts.committed ?? (() => checkpointOffsets(opts.stateDir));
  const held = new Map<string, Held>();
  let removals: Removal[] = [];
  let fd = -1;
  let written = 0;

  const hold = (raw: string): Held | undefined => {
    const line = parseLegacyLine(raw);
    return line && !('error' in line) ? { raw, line, at: line.sec * 1000 + line.ns / 1e6 } : undefined;
  };

  // ---- the pending file ----------------------------------------------------------------------------------
  const rewrite = (): void => {
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.tmp`;
    const body = [...[...held.values()].map((h) => `+${JSON.stringify(h.raw)}\n`), ...removals.map((r) => `+${JSON.stringify(r.raw)}\n-${JSON.stringify(r)}\n`)].join('');
    const t = openSync(tmp, 'w', 0o600);
    try {
      writeSync(t, body);
      fsyncSync(t);
    } finally {
      closeSync(t);
    }
    renameSync(tmp, file);
    if (fd >= 0) closeSync(fd);
    fd = openSync(file, 'a', 0o600);
    written = Buffer.byteLength(body);
  };
  const append = (text: string, sync: boolean): void => {
    if (fd < 0) rewrite();
    written += writeSync(fd, text);
    if (sync) fdatasyncSync(fd);
  };
  /** Keeps what a restart would still need: held lines, and removals the checkpoint on disk is not past yet. */
  const compact = (): void => {
    const offsets = committed();
    removals = removals.filter((r) => (offsets.get(r.stream) ?? Infinity) <= r.offset);
    rewrite();
  };

  // ---- load --------------------------------------------------------------------------------------------------
  {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const adds = new Map<string, string>();
    const removed = new Map<string, Removal>();
    for (const rec of text.split('\n')) {
      try {
        if (rec.startsWith('+')) {
          const raw = JSON.parse(rec.slice(1)) as string;
          const h = hold(raw);
          if (h) adds.set(h.line.fields.get('id')!, raw);
        } else if (rec.startsWith('-')) {
          const r = JSON.parse(rec.slice(1)) as Removal;
          removed.set(r.id, r);
        }
      } catch {
        // a torn last record (crash mid-write): an add that was never fsync'd, so never acknowledged
      }
    }
    const offsets = removed.size > 0 ? committed() : new Map<string, number>();
    for (const [id, raw] of adds) {
      const r = removed.get(id);
      // A stream no longer in the checkpoint was read to its end and forgotten: its removals are final.
      if (r && (offsets.get(r.stream) ?? Infinity) > r.offset) continue;
      held.set(id, hold(raw)!);
    }
    if (text !== '') rewrite(); // compacted: what the restart resolved is gone
  }

  const shipEvent = (obj: Record<string, unknown>, markers: Record<string, string> | undefined): ShipEvent => {
    const t = Date.parse(obj.stageTimestamp as string);
    const frac = /\.(\d+)Z$/.exec(obj.stageTimestamp as string);
    return {
      raw: JSON.stringify(obj),
      isObject: true,
      time: Math.floor(t / 1000),
      timeNs: frac ? Number((frac[1]! + '000000000').slice(0, 9)) : 0,
      ...(markers ? { markers } : {}),
    };
  };
  const withRaw = (obj: Record<string, unknown>, raw: string): Record<string, unknown> => (opts.keepRaw ? { ...obj, __legacy__: raw } : obj);
  const markersOf = (event: ShipEvent, extra?: Record<string, string>): Record<string, string> | undefined => {
    const rest = { ...event.markers };
    delete rest.__parse_error__;
    const out = { ...rest, ...extra };
    return Object.keys(out).length > 0 ? out : undefined;
  };

  const release = (id: string, ctx: EventContext): Held => {
    const h = held.get(id)!;
    held.delete(id);
    const r: Removal = { id, raw: h.raw, stream: ctx.stream, offset: ctx.offset };
    removals.push(r);
    append(`-${JSON.stringify(r)}\n`, false);
    return h;
  };

  /** Request lines held longer than the timeout, measured in log time up to `nowMs`. */
  const expire = (nowMs: number, ctx: EventContext): ShipEvent[] => {
    const out: ShipEvent[] = [];
    for (const [id, h] of held) {
      if (nowMs - h.at <= timeout) continue;
      release(id, ctx);
      out.push(shipEvent(withRaw(toEvent(h.line), h.raw), { __unpaired__: 'true' }));
    }
    return out;
  };

  const convert = (event: ShipEvent, ctx: EventContext): ProcessorResult => {
    const line = parseLegacyLine(event.raw);
    if (!line) return event;
    if ('error' in line) return { ...event, markers: { ...event.markers, __parse_error__: line.error } };
    const nowMs = line.sec * 1000 + line.ns / 1e6;
    const id = line.fields.get('id')!;
    let current: ShipEvent | null;
    switch (legacyKind(line)) {
      case 'stage':
        current = shipEvent(withRaw(toEvent(line), event.raw), markersOf(event));
        break;
      case 'request':
        if (held.get(id)?.raw !== event.raw) {
          // Durable before its bytes can be acknowledged (a line re-read after a restart is held already).
          held.set(id, { raw: event.raw, line, at: nowMs });
          append(`+${JSON.stringify(event.raw)}\n`, true);
        }
        current = null;
        break;
      case 'response': {
        const req = held.has(id) ? release(id, ctx) : undefined;
        const obj = toEvent(req?.line, line);
        current = shipEvent(withRaw(obj, req ? `${req.raw}\n${event.raw}` : event.raw), markersOf(event, req ? undefined : { __unpaired__: 'true' }));
        break;
      }
    }
    const expired = held.size > 0 ? expire(nowMs, ctx) : [];
    if (written > COMPACT_BYTES) compact();
    if (expired.length === 0) return current;
    return current ? [...expired, current] : expired;
  };

  return (event, ctx) => {
    if (event.isObject || !event.markers?.__parse_error__ || !looksLegacy(event.raw)) {
      if (held.size === 0) return event;
      // Any line moves the clock: release what waited too long, with this event.
      const expired = expire(event.time * 1000 + event.timeNs / 1e6, ctx);
      return expired.length === 0 ? event : [...expired, event];
    }
    return convert(event, ctx);
  };
}
