// The receiver: POST an EventList → validated whole → new events spooled durably → 200. Every other answer keeps
// nothing: 400 (not an EventList), 413 (too large), 415 (encoding), 429 (spool full or too many bodies in
// memory), 503 (the spool cannot be written). Answers are small JSON bodies with a stable code.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../observe/log.js';
import { createAnswers } from './answer.js';
import { readBody } from './body.js';
import { createBodyBudget } from './body-budget.js';
import type { DedupeWindow } from './dedupe.js';
import { keyHash } from './dedupe.js';
import { parseEventList, type SpoolItem } from './eventlist.js';
import { listenHttp } from './http-server.js';
import type { Spool } from './spool.js';
import type { TlsFiles } from './tls.js';

export const MAX_BODY_BYTES = 32 * 1024 * 1024;

export interface ServerOptions {
  host: string;
  port: number;
  tls?: TlsFiles;
  /** Headers and body must have arrived within this long (slow clients are cut, others are served). */
  timeoutMs: number;
  /** Bodies held in memory at once, at most (more: 429 at once). */
  memoryBudgetBytes: number;
  retryAfterSeconds: number;
  tlsPollMs?: number;
}

export interface ServerDeps {
  spool: Spool;
  dedupe: DedupeWindow;
  logger: Logger;
  onAccepted?: (events: number, duplicates: number) => void;
  onAnswer?: (status: number) => void;
}

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

export function startServer(o: ServerOptions, d: ServerDeps): Promise<RunningServer> {
  const budget = createBodyBudget(o.memoryBudgetBytes);
  const { answer, busy } = createAnswers(d.onAnswer, o.retryAfterSeconds);
  const retryAfter = { 'retry-after': String(o.retryAfterSeconds) };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST') return answer(res, 405, { code: 'TAILSHIP_E_WEBHOOK_METHOD', reason: 'POST an audit.k8s.io EventList' }, false, { allow: 'POST' });
    const declared = Number(req.headers['content-length']) || 0;
    if (declared <= MAX_BODY_BYTES && (d.spool.full(declared) || budget.exceeds(declared))) return busy(res, d.spool.full(declared));
    // A body without Content-Length (chunked) is counted as it arrives.
    const held = budget.hold(declared);
    try {
      const r = await readBody(req, MAX_BODY_BYTES, held.more);
      if (!('body' in r)) return answer(res, r.status, { code: r.code, reason: r.reason }, true, r.status === 429 ? retryAfter : {});
      const parsed = parseEventList(r.body);
      if ('error' in parsed) {
        d.logger.warn({ code: parsed.error, reason: parsed.reason, remote: req.socket.remoteAddress }, 'webhook body rejected (400): nothing of it was kept');
        return answer(res, 400, { code: parsed.error, reason: parsed.reason }, false);
      }
      return await spoolFresh(parsed.items, res);
    } finally {
      held.release();
    }
  };

  /** The items not seen before go to the spool; 200 once they are on disk. */
  const spoolFresh = async (items: SpoolItem[], res: ServerResponse): Promise<void> => {
    const { lines, fresh, bytes } = freshItems(items, d.dedupe);
    const duplicates = items.length - lines.length;
    if (lines.length > 0 && d.spool.full(bytes)) return busy(res, true);
    // Dedupe: keys reserved now (a concurrent retry of the same list sees them), released if the write fails.
    d.dedupe.add(fresh);
    try {
      if (lines.length > 0) await d.spool.append(lines, fresh);
    } catch {
      d.dedupe.remove(fresh);
      return answer(res, 503, { code: 'TAILSHIP_E_WEBHOOK_SPOOL_WRITE', reason: 'the spool cannot be written; retry later' }, false, retryAfter);
    }
    d.onAccepted?.(lines.length, duplicates);
    answer(res, 200, { accepted: lines.length, duplicates }, false);
  };

  return listenHttp(o, d.logger, (req, res) => {
    void handle(req, res).catch((e: Error) => {
      d.logger.error({ err: e.message }, 'webhook request failed');
      if (!res.headersSent) answer(res, 500, { code: 'TAILSHIP_E_WEBHOOK_INTERNAL', reason: 'internal error' }, true);
    });
  });
}

/** The items whose key neither this list nor the dedupe window has seen: their lines, key hashes and bytes. */
function freshItems(items: SpoolItem[], dedupe: DedupeWindow): { lines: Buffer[]; fresh: string[]; bytes: number } {
  const lines: Buffer[] = [];
  const fresh: string[] = [];
  const seen = new Set<string>();
  let bytes = 0;
  for (const it of items) {
    const h = keyHash(it.key);
    if (seen.has(h) || dedupe.has(h)) continue;
    seen.add(h);
    fresh.push(h);
    lines.push(it.line);
    bytes += it.line.length + 1;
  }
  return { lines, fresh, bytes };
}
