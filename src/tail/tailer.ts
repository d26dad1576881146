import path from 'node:path';
import type { InputSpec, StartAt } from '../config/types.js';
import { hasGlob, segmentMatcher } from '../discover/glob.js';
import { isBackupOf, parseBackupName } from '../discover/rotation-names.js';
import type { StreamRecord } from '../identity/stream-record.js';
import type { StreamAcks, TailContext, TailerHooks } from './context.js';
import { FileTable, type FileProgress, type Lane } from './file-table.js';
import { adoptBackups, followLane, MISSING_MSG, trackHistory } from './follow.js';
import { nodeFs, type TailFs } from './fs.js';
import { pumpLane } from './reader.js';
import { HealthBook, type GlobSeen } from './input-health.js';
import { resumeLane } from './resume.js';
import type { TailSignals } from './signals.js';

export type { FileProgress, Lane, StreamAcks, TailerHooks };

export interface TailerOptions {
  inputs: InputSpec[];
  records: StreamRecord[];
  startAt: StartAt;
  backfill: boolean;
  maxLineBytes: number;
  readChunkBytes?: number;
  /** Bytes one lane may read per pass before others get a turn. */
  passBytes?: number;
  lingerMs?: number;
  signals: TailSignals;
  hooks: TailerHooks;
  acks: StreamAcks;
  fs?: TailFs;
  now?: () => number;
}

/**
 * Finds files, follows them across rotation, reads lines at exact offsets. The timed poll is the source of
 * truth (file events are hints that only wake it sooner, architecture notes pitfall 5). One discovery pass:
 * each lane is resumed on first sight (resume.ts), then followed (follow.ts), history tracked, backups adopted.
 */
export class Tailer {
  readonly #ctx: TailContext;
  #inputs: InputSpec[];
  #started = false;
  /** A new configuration, applied at the start of the next discovery pass (never in the middle of one). */
  #next: InputSpec[] | undefined;
  /** Inputs added by a reload: their first sight is a start (history before it is skipped as at startup). */
  #fresh = new Set<InputSpec>();
  /** Lanes of removed inputs: no more reads; closed once every batch they sealed is acknowledged. */
  #retiring: Lane[] = [];
  readonly #health: HealthBook;
  /** What the last pass saw of each glob input's directory, and what was warned about it. */
  #globs = new Map<string, GlobSeen>();
  readonly #globWarned = new Map<string, GlobSeen>();
  readonly #globPrev = new Map<string, GlobSeen>();
  #listings = new Map<string, Promise<string[] | null>>();

  constructor(opts: TailerOptions) {
    const fs = opts.fs ?? nodeFs;
    this.#inputs = opts.inputs;
    this.#health = new HealthBook((opts.now ?? Date.now)());
    this.#ctx = {
      o: { startAt: opts.startAt, backfill: opts.backfill, maxLineBytes: opts.maxLineBytes, passBytes: opts.passBytes ?? 8 << 20, lingerMs: opts.lingerMs ?? 5000 },
      table: new FileTable(opts.records),
      fs,
      signals: opts.signals,
      hooks: opts.hooks,
      acks: opts.acks,
      now: opts.now ?? Date.now,
      scratch: Buffer.allocUnsafe(opts.readChunkBytes ?? 1 << 20),
      listing: (dir: string, fresh = false) => {
        let l = fresh ? undefined : this.#listings.get(dir);
        if (!l) this.#listings.set(dir, (l = fs.readdir(dir).catch(() => null)));
        return l;
      },
    };
  }

  /** Per input: up, why not, since when, when it last grew (SPEC §7). */
  get health(): HealthBook {
    return this.#health;
  }

  get lanes(): Lane[] {
    return [...this.#ctx.table.lanes.values()];
  }

  /** The records to persist, offsets taken from the acknowledgements. */
  snapshot(): StreamRecord[] {
    return this.#ctx.table.snapshot((id) => this.#ctx.acks.committed(id), this.#ctx.now());
  }

  /** How far each known file is shipped. */
  fileProgress(): FileProgress[] {
    return this.#ctx.table.progress((id) => this.#ctx.acks.committed(id));
  }

  /** Directories to watch for hints. */
  watchDirs(): string[] {
    return [...new Set(this.#inputs.map((i) => path.dirname(i.hostPath)))];
  }

  /** One discovery pass: new lanes, rotations, truncations, backups seen, records found or lost. */
  async discover(): Promise<void> {
    const ctx = this.#ctx;
    this.#listings = new Map(); // each directory is read once per pass
    const first = !this.#started;
    this.#started = true;
    this.#applyInputs();
    this.#retire();
    const busy = new Set(this.#retiring.map((l) => l.id));
    for (const input of this.#inputs) {
      for (const activePath of await this.#activePaths(input)) {
        const lane = ctx.table.lane(input, activePath);
        if (busy.has(lane.id)) continue; // the same file of a changed input: after the old lane's last ack
        if (!lane.planned && (await this.#laneExists(lane))) {
          // Planned once something of it exists: a file missing for now keeps its checkpoint until it is back.
          lane.planned = true;
          await this.#guard(lane, () => resumeLane(ctx, lane, first || this.#fresh.has(input)));
        }
      }
    }
    this.#fresh.clear();
    for (const lane of this.lanes) {
      if (!lane.planned) {
        this.#warnMissing(lane);
        continue;
      }
      if (!(await this.#guard(lane, () => followLane(ctx, lane), true))) continue;
      // A file a glob matched is gone and fully read: forget the lane (its records age out with their files).
      if (hasGlob(lane.input.hostPath) && !lane.active && lane.queue.length === 0 && lane.lingering.length === 0) {
        const gone = await ctx.fs.stat(lane.activePath).then(() => false, () => true);
        if (gone) ctx.table.lanes.delete(lane.id);
      }
    }
    await trackHistory(ctx);
    for (const lane of ctx.table.lanes.values()) if (lane.planned) await this.#guard(lane, () => adoptBackups(ctx, lane));
    this.#health.observe(this.#inputs, this.lanes, this.#globs, ctx.now());
  }

  /**
   * Live configuration (SPEC §11): the inputs from now on, applied at the next discovery pass. An input equal to
   * a running one (everything but where it was found) keeps going untouched; a new one starts; a removed one
   * reads no more and stops after its last acknowledged batch (its records are kept for a later return).
   */
  setInputs(inputs: InputSpec[]): void {
    this.#next = inputs;
  }

  #applyInputs(): void {
    const next = this.#next;
    if (!next) return;
    this.#next = undefined;
    const sig = (i: InputSpec): string => JSON.stringify({ ...i, origin: undefined });
    const running = new Map(this.#inputs.map((i) => [sig(i), i]));
    const wanted = new Set(next.map(sig));
    const inputs = next.map((i) => running.get(sig(i)) ?? (this.#fresh.add(i), i));
    const removed = new Set(this.#inputs.filter((i) => !wanted.has(sig(i))));
    for (const lane of [...this.#ctx.table.lanes.values()]) {
      if (!removed.has(lane.input)) continue;
      this.#ctx.table.lanes.delete(lane.id);
      // Seal what is batched of it: those batches are sent and acknowledged; nothing more is read.
      for (const s of [...lane.queue, ...lane.lingering]) this.#ctx.hooks.onStreamEnd(s.rec);
      this.#retiring.push(lane);
    }
    this.#ctx.signals.info(
      { added: [...this.#fresh].map((i) => i.key), removed: [...removed].map((i) => i.key), kept: inputs.filter((i) => !this.#fresh.has(i)).map((i) => i.key) },
      'configuration reloaded: new inputs start, removed inputs stop after their last acknowledged batch, the others go on',
    );
    this.#inputs = inputs;
  }

  /** Closes the retiring lanes whose every sealed batch is acknowledged. */
  #retire(): void {
    const { table, acks } = this.#ctx;
    this.#retiring = this.#retiring.filter((lane) => {
      const recs = table.recordsOf(lane);
      if (!recs.every((r) => acks.settled(r.id))) return true;
      for (const s of [...lane.queue, ...lane.lingering]) void s.src?.close().catch(() => undefined);
      for (const r of recs) {
        r.offset = acks.committed(r.id) ?? r.offset;
        r.sealed = [];
        acks.forget(r.id);
      }
      table.unclaim(lane);
      this.#ctx.signals.info({ input: lane.input.key, file: lane.activePath }, 'input removed: stopped after its last acknowledged batch');
      return false;
    });
  }

  /** Reads what is available, lane by lane, within the budget. Returns the bytes read. */
  async read(): Promise<number> {
    let total = 0;
    for (const lane of this.#ctx.table.lanes.values()) {
      if (!this.#ctx.hooks.canRead()) break;
      await this.#guard(lane, async () => {
        const n = await pumpLane(this.#ctx, lane);
        if (n > 0) this.#health.grew(lane.input.key, this.#ctx.now());
        total += n;
      });
    }
    return total;
  }

  /** True when every lane has read everything there is and nothing is waiting for a rotated file. */
  caughtUp(): boolean {
    for (const lane of this.#ctx.table.lanes.values()) {
      if (lane.queue.some((s) => s !== lane.active)) return false;
      if (lane.active && lane.active.src!.position < lane.active.rec.size) return false;
    }
    return true;
  }

  async close(): Promise<void> {
    for (const lane of this.#ctx.table.lanes.values()) {
      for (const s of [...lane.queue, ...lane.lingering]) await s.src?.close().catch(() => undefined);
    }
  }

  async #activePaths(input: InputSpec): Promise<string[]> {
    if (!hasGlob(input.hostPath)) return [input.hostPath];
    const names = await this.#ctx.listing(path.dirname(input.hostPath));
    const match = segmentMatcher(path.basename(input.hostPath));
    // lumberjack backups of a matched file are its history, never active files of their own
    const paths = (names ?? []).filter((n) => match(n) && !parseBackupName(n)).map((n) => path.join(path.dirname(input.hostPath), n));
    this.#globSeen(input, !names ? 'unlistable' : paths.length === 0 ? 'no-match' : 'ok');
    return paths;
  }

  /** A glob whose directory cannot be listed or that matches nothing is warned once (not every poll). */
  #globSeen(input: InputSpec, seen: GlobSeen): void {
    this.#globs.set(input.key, seen);
    // Seen on two passes in a row: a rotation's instant between rename and create is no news.
    const prev = this.#globPrev.get(input.key);
    this.#globPrev.set(input.key, seen);
    if (prev !== seen || this.#globWarned.get(input.key) === seen) return;
    const was = this.#globWarned.get(input.key);
    this.#globWarned.set(input.key, seen);
    const fields = { input: input.key, path: input.hostPath };
    if (seen === 'unlistable') this.#ctx.signals.warn(fields, 'cannot list the directory of this glob (missing, or no read/search permission): waiting for it');
    else if (seen === 'no-match') this.#ctx.signals.warn(fields, 'no file matches this glob (yet): waiting for one; check the path and --host-root');
    else if (was !== undefined) this.#ctx.signals.info(fields, 'the glob matches files again');
  }

  /** True when the active file or one of its backups exists. */
  async #laneExists(lane: Lane): Promise<boolean> {
    try {
      await this.#ctx.fs.stat(lane.activePath);
      return true;
    } catch (e) {
      lane.missingCode = (e as NodeJS.ErrnoException).code;
    }
    const base = path.basename(lane.activePath);
    const names = (await this.#ctx.listing(path.dirname(lane.activePath))) ?? [];
    return names.some((n) => isBackupOf(n, base) !== undefined);
  }

  /**
   * One input's trouble never stops the agent or another input (issue 10 item 1): an unexpected error of one
   * lane is warned once per kind of error, and the next poll tries again quietly. Returns false when it threw.
   */
  async #guard(lane: Lane, step: () => Promise<void>, recovers = false): Promise<boolean> {
    try {
      await step();
      if (recovers && lane.warned?.startsWith('error:')) {
        this.#ctx.signals.info({ input: lane.input.key, file: lane.activePath }, 'input is readable again');
        lane.warned = undefined;
      }
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      if (lane.warned !== `error:${code}`) {
        this.#ctx.signals.warn(
          { input: lane.input.key, file: lane.activePath, code, err: (e as Error).message },
          'cannot read this input now: skipping it, the other inputs go on; retrying quietly',
        );
        lane.warned = `error:${code}`;
      }
      return false;
    }
  }

  #warnMissing(lane: Lane): void {
    if (lane.warned === `missing:${lane.missingCode}`) return;
    this.#ctx.signals.warn(
      { input: lane.input.key, file: lane.activePath, code: lane.missingCode },
      lane.missingCode === 'ENOENT'
        ? MISSING_MSG
        : `cannot stat the file (${lane.missingCode}): check permissions (tailship needs read access to the file and search access to its directory)`,
    );
    lane.warned = `missing:${lane.missingCode}`;
  }
}
