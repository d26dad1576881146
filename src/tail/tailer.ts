import type { Stats } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { StreamRecord } from '../checkpoint/checkpoint-store.js';
import type { InputSpec, StartAt } from '../config/types.js';
import { hasGlob, segmentMatcher } from '../discover/glob.js';
import { isBackupOf, parseBackupName } from '../discover/rotation-names.js';
import { FINGERPRINT_BYTES, fingerprintOf, matchesHead, readGzipHead, readHead } from '../identity/fingerprint.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import { gzipSource, plainSource, type GzipSource } from './chunk-source.js';
import type { RawLine } from './line-framer.js';
import { liveFromRecord, newRecord, type LiveStream } from './stream.js';

/** One active file of an input (the configured path, or one file a glob matched) with its rotated history. */
export interface Lane {
  id: string;
  input: InputSpec;
  /** Host path of the active file. */
  activePath: string;
  /** The path as the input names it (container path for manifest inputs): the `__path__` tag. */
  namedPath: string;
  /** Streams to read, oldest first; the active file's stream is last when there is one. */
  queue: LiveStream[];
  active?: LiveStream;
  lingering: LiveStream[];
  /** The last problem warned about, so that a lasting one is logged once, not every poll. */
  warned?: string;
  /** Checkpoints applied (done once the active file or one of its backups exists). */
  planned: boolean;
  /** Why the active file could not be seen (ENOENT, EACCES…), for the warning. */
  missingCode?: string;
}

/** How the tailer hands data on and learns about acknowledgements, without knowing batches or sinks. */
export interface TailerHooks {
  /** A complete line (or an empty one: `line.text === ''`) of a stream. */
  onLine(lane: Lane, stream: StreamRecord, line: RawLine): void;
  /** A stream starts being read at `offset`; `sealed` are batch ends to reproduce (restart). */
  onStreamOpen(stream: StreamRecord, offset: number, sealed: number[]): void;
  /** A stream will get no more lines: its open batch can be sealed. */
  onStreamEnd(stream: StreamRecord): void;
  /** Reading may go on (the in-flight budget has room). */
  canRead(): boolean;
  /** Acknowledged offset of a stream, if it is tracked. */
  committed(streamId: string): number | undefined;
  /** True when nothing of the stream is sealed but unacknowledged. */
  settled(streamId: string): boolean;
  /** The stream's record is no longer needed: forget its ledger state. */
  onStreamForget(streamId: string): void;
}

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
  logger: Logger;
  metrics: Metrics;
  hooks: TailerHooks;
  now?: () => number;
}

/**
 * Finds files, follows them across rotation, reads lines at exact offsets. The timed poll is the source of
 * truth (file events are hints that only wake it sooner, architecture notes pitfall 5).
 */
export class Tailer {
  readonly #o: Required<Omit<TailerOptions, 'records'>>;
  readonly #lanes = new Map<string, Lane>();
  /** Every stream record known (read, being read, or history kept to recognise files after a restart). */
  readonly #records = new Map<string, StreamRecord>();
  /** Checkpointed records not yet claimed by a lane (each is claimed once, when its lane is first seen). */
  #restored: StreamRecord[];
  readonly #scratch: Buffer;
  #started = false;

  constructor(opts: TailerOptions) {
    this.#o = {
      readChunkBytes: 1 << 20,
      passBytes: 8 << 20,
      lingerMs: 5000,
      now: Date.now,
      ...opts,
    };
    this.#restored = opts.records;
    this.#scratch = Buffer.allocUnsafe(this.#o.readChunkBytes);
  }

  get lanes(): Lane[] {
    return [...this.#lanes.values()];
  }

  /** The records to persist, offsets and sealed ends taken from the acknowledgements. */
  snapshot(): StreamRecord[] {
    // Records of lanes not seen yet (a file missing for now) are kept as they were loaded.
    const out: StreamRecord[] = [...this.#restored];
    for (const r of this.#records.values()) {
      const c = this.#o.hooks.committed(r.id);
      if (c !== undefined && c !== r.offset) {
        r.offset = c;
        r.updatedAt = this.#o.now();
      }
      out.push({ ...r, sealed: r.sealed });
    }
    return out;
  }

  /** Directories to watch for hints. */
  watchDirs(): string[] {
    return [...new Set(this.#o.inputs.map((i) => path.dirname(i.hostPath)))];
  }

  /** One discovery pass: new lanes, rotations, truncations, backups seen, records found or lost. */
  async discover(): Promise<void> {
    const first = !this.#started;
    this.#started = true;
    for (const input of this.#o.inputs) {
      for (const activePath of await this.#activePaths(input)) {
        const id = `${input.key}\u0000${activePath}`;
        let lane = this.#lanes.get(id);
        if (!lane) {
          lane = {
            id,
            input,
            activePath,
            namedPath: hasGlob(input.path) ? path.posix.join(path.posix.dirname(input.path), path.basename(activePath)) : input.path,
            queue: [],
            lingering: [],
            planned: false,
          };
          this.#lanes.set(id, lane);
        }
        if (!lane.planned && (await this.#laneExists(lane))) {
          // Planned once something of it exists: a file missing for now keeps its checkpoint until it is back.
          lane.planned = true;
          await this.#planLane(lane, first);
        }
      }
    }
    for (const lane of [...this.#lanes.values()]) {
      if (!lane.planned) {
        if (lane.warned !== `missing:${lane.missingCode}`) {
          this.#o.logger.warn(
            { input: lane.input.key, file: lane.activePath, code: lane.missingCode },
            lane.missingCode === 'ENOENT'
              ? 'file does not exist (yet): waiting for it; check the path and --host-root if it never appears'
              : `cannot stat the file (${lane.missingCode}): check permissions (tailship needs read access to the file and search access to its directory)`,
          );
          lane.warned = `missing:${lane.missingCode}`;
        }
        continue;
      }
      await this.#discoverLane(lane);
      // A file a glob matched is gone and fully read: forget the lane (its records age out with their files).
      if (hasGlob(lane.input.hostPath) && !lane.active && lane.queue.length === 0 && lane.lingering.length === 0) {
        const gone = await stat(lane.activePath).then(() => false, () => true);
        if (gone) this.#lanes.delete(lane.id);
      }
    }
    await this.#trackHistory();
    for (const lane of this.#lanes.values()) if (lane.planned) await this.#adoptBackups(lane);
  }

  /** Reads what is available, lane by lane, within the budget. Returns the bytes read. */
  async read(): Promise<number> {
    let total = 0;
    for (const lane of this.#lanes.values()) {
      if (!this.#o.hooks.canRead()) break;
      total += await this.#pump(lane);
    }
    return total;
  }

  /** True when every lane has read everything there is and nothing is waiting for a rotated file. */
  caughtUp(): boolean {
    for (const lane of this.#lanes.values()) {
      if (lane.queue.some((s) => s !== lane.active)) return false;
      if (lane.active && lane.active.src!.position < lane.active.rec.size) return false;
    }
    return true;
  }

  async close(): Promise<void> {
    for (const lane of this.#lanes.values()) {
      for (const s of [...lane.queue, ...lane.lingering]) await s.src?.close().catch(() => undefined);
    }
  }

  // ---- discovery -------------------------------------------------------------------------------------------

  async #activePaths(input: InputSpec): Promise<string[]> {
    if (!hasGlob(input.hostPath)) return [input.hostPath];
    const dir = path.dirname(input.hostPath);
    const match = segmentMatcher(path.basename(input.hostPath));
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return [];
    }
    // lumberjack backups of a matched file are its history, never active files of their own
    return names.filter((n) => match(n) && !parseBackupName(n)).map((n) => path.join(dir, n));
  }

  /** True when the active file or one of its backups exists. */
  async #laneExists(lane: Lane): Promise<boolean> {
    try {
      await stat(lane.activePath);
      return true;
    } catch (e) {
      lane.missingCode = (e as NodeJS.ErrnoException).code;
    }
    const base = path.basename(lane.activePath);
    const names = await readdir(path.dirname(lane.activePath)).catch(() => [] as string[]);
    return names.some((n) => isBackupOf(n, base) !== undefined);
  }

  /** On first sight of a lane: resume checkpointed streams, then newer backups, then the active file. */
  async #planLane(lane: Lane, startup: boolean): Promise<void> {
    const o = this.#o;
    const records = this.#restored.filter((r) => r.lane === lane.activePath && r.input === lane.input.key);
    this.#restored = this.#restored.filter((r) => !records.includes(r));
    const firstStart = records.length === 0;
    const unmatched = new Set(records);
    const dir = path.dirname(lane.activePath);
    const base = path.basename(lane.activePath);
    const candidates: Array<{ file: string; gz: boolean; stamp: string }> = [];
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const b = isBackupOf(name, base);
      if (b) candidates.push({ file: path.join(dir, name), gz: b.gz, stamp: b.stamp });
    }
    candidates.sort((a, b) => (a.stamp < b.stamp ? -1 : a.stamp > b.stamp ? 1 : Number(a.gz) - Number(b.gz)));
    const names = new Set(candidates.map((c) => c.file));
    const plan: Array<{ rec: StreamRecord; start: number; gz: boolean; fh?: FileHandle }> = [];

    const take = (match: (r: StreamRecord) => boolean): StreamRecord | undefined => {
      for (const r of unmatched) if (match(r)) return unmatched.delete(r), r;
      return undefined;
    };

    for (const c of candidates) {
      if (c.gz && names.has(c.file.slice(0, -3))) continue; // the plain twin is read instead
      let head: Buffer;
      let st: Stats | undefined;
      let fh: FileHandle | undefined;
      try {
        if (c.gz) head = await readGzipHead(c.file);
        else {
          fh = await open(c.file, 'r');
          st = await fh.stat();
          head = await readHead(fh);
        }
      } catch (e) {
        this.#o.logger.warn({ file: c.file, err: (e as Error).message }, 'cannot open a rotated backup; skipping it');
        await fh?.close();
        continue;
      }
      const rec =
        (st && take((r) => r.dev === st!.dev && r.ino === st!.ino && matchesHead(r.fp, head))) ??
        take((r) => r.fp.len > 0 && matchesHead(r.fp, head));
      if (rec) {
        rec.file = c.file;
        this.#records.set(rec.id, rec);
        if (rec.state === 'done' && (!st || rec.offset >= st.size)) {
          await fh?.close();
          continue;
        }
        rec.state = 'rotated';
        plan.push({ rec, start: rec.offset, gz: c.gz, fh });
        continue;
      }
      const fresh = newRecord(lane.input.key, lane.activePath, c.file, st ?? { dev: 0, ino: 0, size: 0 }, fingerprintOf(head), 0);
      fresh.state = 'rotated';
      this.#records.set(fresh.id, fresh);
      if (firstStart && startup && !o.backfill) {
        // History that existed before tailship was set up: known, never read (use --backfill to ship it).
        fresh.state = 'done';
        fresh.offset = st?.size ?? 0;
        fresh.size = st?.size ?? 0;
        await fh?.close();
        continue;
      }
      plan.push({ rec: fresh, start: 0, gz: c.gz, fh });
    }

    // The active file.
    try {
      const fh = await open(lane.activePath, 'r');
      const st = await fh.stat();
      const head = await readHead(fh);
      const rec =
        take((r) => r.dev === st.dev && r.ino === st.ino && (r.fp.len === 0 || matchesHead(r.fp, head))) ??
        take((r) => r.fp.len > 0 && matchesHead(r.fp, head));
      if (rec && rec.offset <= st.size) {
        rec.file = lane.activePath;
        rec.state = 'active';
        this.#records.set(rec.id, rec);
        plan.push({ rec, start: rec.offset, gz: false, fh });
      } else {
        if (rec) this.#o.logger.warn({ file: lane.activePath, offset: rec.offset, size: st.size }, 'file is shorter than its checkpoint: truncated while stopped; reading it from the start');
        const start = firstStart && startup && o.startAt === 'end' ? st.size : 0;
        const fresh = newRecord(lane.input.key, lane.activePath, lane.activePath, st, fingerprintOf(head), start);
        this.#records.set(fresh.id, fresh);
        plan.push({ rec: fresh, start, gz: false, fh });
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && lane.warned !== 'open') {
        // One line per problem: #openActive, which retries, says nothing more while it is the same one.
        this.#o.logger.warn({ file: lane.activePath, err: (e as Error).message }, 'cannot open the file: check permissions; will retry');
        lane.warned = 'open';
      }
    }

    for (const r of unmatched) {
      if (r.state === 'done') continue;
      // What was written after the last checkpoint is unknown: count what is known, say that it is a minimum.
      const lost = Math.max(0, r.size - r.offset);
      o.metrics.bytesLost.inc(lost);
      o.logger.error(
        { file: r.file, stream: r.id, offset: r.offset, lastSize: r.size, bytesLost: lost },
        `file was deleted (rotated away) before it was read to its end: ${lost > 0 ? `at least ${lost} bytes` : 'an unknown number of bytes written after the last checkpoint'} lost (raise --audit-log-maxbackup or keep tailship running)`,
      );
    }

    for (const p of plan) {
      const s = liveFromRecord(p.rec, p.start, o.maxLineBytes, p.rec.state === 'active' ? 'active' : 'rotated');
      if (p.gz) s.gzFile = p.rec.file;
      else {
        s.fh = p.fh;
        s.src = plainSource(p.fh!, p.start, this.#scratch);
      }
      o.hooks.onStreamOpen(p.rec, p.start, p.rec.offset === p.start ? p.rec.sealed : []);
      lane.queue.push(s);
      if (s.phase === 'active') lane.active = s;
    }
    if (plan.length > 0) {
      o.logger.info(
        { input: lane.input.key, file: lane.activePath, streams: plan.map((p) => ({ file: p.rec.file, from: p.start })) },
        firstStart ? 'following file' : 'resuming from checkpoint',
      );
    }
  }

  async #discoverLane(lane: Lane): Promise<void> {
    const o = this.#o;
    let st: Stats | undefined;
    try {
      st = await stat(lane.activePath);
      if (lane.warned === 'missing') lane.warned = undefined;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (lane.warned !== 'missing' && !lane.active && lane.queue.length === 0) {
        o.logger.warn(
          { input: lane.input.key, file: lane.activePath, code },
          code === 'ENOENT'
            ? 'file does not exist (yet): waiting for it; check the path and --host-root if it never appears'
            : 'cannot stat the file: check permissions (tailship needs read access to the file and its directory)',
        );
        lane.warned = 'missing';
      }
    }
    const a = lane.active;
    if (a) {
      const fst = await a.fh!.stat();
      a.rec.size = fst.size;
      if (!st || st.ino !== fst.ino || st.dev !== fst.dev) {
        a.phase = 'rotated';
        a.rec.state = 'rotated';
        lane.active = undefined;
        o.logger.debug({ file: lane.activePath, stream: a.rec.id }, 'file rotated; reading the renamed file to its end');
      } else if (fst.size < a.src!.position || !(await this.#sameContent(a))) {
        this.#truncated(lane, a, fst.size);
      }
    }
    if (!lane.active && st) await this.#openActive(lane);
    // Lingering rotated files: read what a late writer added, close once quiet.
    const now = o.now();
    for (const s of [...lane.lingering]) {
      const size = (await s.fh!.stat()).size;
      if (size > s.src!.position) {
        s.rec.size = size;
        s.lingerUntil = now + o.lingerMs;
        lane.lingering = lane.lingering.filter((x) => x !== s);
        s.phase = 'rotated';
        lane.queue.unshift(s);
      } else if (now >= s.lingerUntil) {
        lane.lingering = lane.lingering.filter((x) => x !== s);
        this.#finish(lane, s, size, false);
      }
    }
  }

  /**
   * Backups nobody has seen as the active file: when the writer rotates several times between two polls, the
   * files created and renamed in between are known only as backups. They are new content: read them (oldest
   * first) after the stream being drained and before the new active file.
   */
  async #adoptBackups(lane: Lane): Promise<void> {
    const dir = path.dirname(lane.activePath);
    const base = path.basename(lane.activePath);
    const names = await readdir(dir).catch(() => [] as string[]);
    const present = new Set(names);
    const mine = [...this.#records.values()].filter((r) => r.lane === lane.activePath && r.input === lane.input.key);
    const knownFiles = new Set(mine.map((r) => r.file));
    const backups = names
      .map((n) => ({ n, b: isBackupOf(n, base) }))
      .filter((x): x is { n: string; b: NonNullable<ReturnType<typeof isBackupOf>> } => x.b !== undefined)
      .sort((a, b) => (a.b.stamp < b.b.stamp ? -1 : a.b.stamp > b.b.stamp ? 1 : 0));
    for (const { n, b } of backups) {
      const file = path.join(dir, n);
      if (knownFiles.has(file)) continue;
      if (b.gz && (present.has(n.slice(0, -3)) || knownFiles.has(file.slice(0, -3)))) continue; // its plain twin stands for it
      let head: Buffer;
      let fh: FileHandle | undefined;
      let st: Stats | undefined;
      try {
        if (b.gz) head = await readGzipHead(file);
        else {
          fh = await open(file, 'r');
          st = await fh.stat();
          head = await readHead(fh);
        }
      } catch {
        await fh?.close();
        continue; // gone already, or unreadable: the next poll says which
      }
      const rec = st
        ? mine.find((r) => r.dev === st!.dev && r.ino === st!.ino && (r.fp.len === 0 || matchesHead(r.fp, head)))
        : mine.find((r) => r.fp.len > 0 && matchesHead(r.fp, head));
      if (rec) {
        rec.file = file;
        await fh?.close();
        if (lane.active?.rec === rec) {
          // Renamed since the stat of this pass: it is rotated now, so backups newer than it queue after it.
          lane.active.phase = 'rotated';
          rec.state = 'rotated';
          lane.active = undefined;
        }
        continue;
      }
      const fresh = newRecord(lane.input.key, lane.activePath, file, st ?? { dev: 0, ino: 0, size: 0 }, fingerprintOf(head), 0);
      fresh.state = 'rotated';
      this.#records.set(fresh.id, fresh);
      knownFiles.add(file);
      const s = liveFromRecord(fresh, 0, this.#o.maxLineBytes, 'rotated');
      if (b.gz) s.gzFile = file;
      else {
        s.fh = fh;
        s.src = plainSource(fh!, 0, this.#scratch);
      }
      this.#o.hooks.onStreamOpen(fresh, 0, []);
      const at = lane.active ? lane.queue.indexOf(lane.active) : -1;
      if (at >= 0) lane.queue.splice(at, 0, s);
      else lane.queue.push(s);
      this.#o.logger.debug({ file, stream: fresh.id }, 'backup written between two polls: reading it before the new file');
    }
  }

  /** The active file was truncated or rewritten in place (copytruncate): a new stream, read from 0. */
  #truncated(lane: Lane, a: LiveStream, size: number): void {
    const lost = Math.max(0, a.rec.size - a.src!.position);
    this.#o.logger.warn(
      { file: lane.activePath, offset: a.src!.position, size },
      'file was truncated or rewritten in place (copytruncate?): reading it again from the start',
    );
    if (lost > 0) this.#o.metrics.bytesLost.inc(lost);
    this.#finish(lane, a, a.src!.position, true);
    lane.queue = lane.queue.filter((s) => s !== a);
    lane.active = undefined;
  }

  /** For the active stream: does the file still start with the bytes it was identified by? Grows the fingerprint. */
  async #sameContent(s: LiveStream): Promise<boolean> {
    const fp = s.rec.fp;
    if (s.rec.size === 0 && fp.len === 0) return true;
    const head = await readHead(s.fh!, Math.min(FINGERPRINT_BYTES, Math.max(fp.len, s.rec.size)));
    if (fp.len > 0 && !matchesHead(fp, head)) return false;
    if (head.length > fp.len) s.rec.fp = fingerprintOf(head);
    return true;
  }

  async #openActive(lane: Lane): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await open(lane.activePath, 'r');
    } catch (e) {
      if (lane.warned !== 'open') {
        this.#o.logger.warn({ file: lane.activePath, err: (e as Error).message }, 'cannot open the file: check permissions; will retry');
        lane.warned = 'open';
      }
      return;
    }
    if (lane.warned === 'open') {
      this.#o.logger.info({ file: lane.activePath }, 'file is readable again');
      lane.warned = undefined;
    }
    const st = await fh.stat();
    const head = await readHead(fh);
    const rec = newRecord(lane.input.key, lane.activePath, lane.activePath, st, fingerprintOf(head), 0);
    this.#records.set(rec.id, rec);
    const s = liveFromRecord(rec, 0, this.#o.maxLineBytes, 'active');
    s.fh = fh;
    s.src = plainSource(fh, 0, this.#scratch);
    this.#o.hooks.onStreamOpen(rec, 0, []);
    lane.queue.push(s);
    lane.active = s;
    this.#o.logger.debug({ file: lane.activePath, stream: rec.id }, 'new file');
  }

  /** Keeps each record's file name current (rename, gzip) and drops records whose file is gone and done. */
  async #trackHistory(): Promise<void> {
    const live = new Set<string>();
    for (const lane of this.#lanes.values()) for (const s of [...lane.queue, ...lane.lingering]) live.add(s.rec.id);
    const byDir = new Map<string, string[] | null>();
    for (const r of this.#records.values()) {
      if (r.state === 'active' && live.has(r.id)) continue;
      const dir = path.dirname(r.lane);
      if (!byDir.has(dir)) byDir.set(dir, await readdir(dir).catch(() => null));
      const names = byDir.get(dir);
      if (!names) continue;
      const have = new Set(names);
      const name = path.basename(r.file);
      if (have.has(name) && r.file !== r.lane) continue;
      if (!r.file.endsWith('.gz') && have.has(`${name}.gz`) && !have.has(name)) {
        r.file = `${r.file}.gz`;
        continue;
      }
      // Renamed: look for its inode among the lane's backups.
      const base = path.basename(r.lane);
      let found = false;
      for (const n of names) {
        const b = isBackupOf(n, base);
        if (!b || b.gz) continue;
        const st = await stat(path.join(dir, n)).catch(() => undefined);
        if (st && st.ino === r.ino && st.dev === r.dev) {
          r.file = path.join(dir, n);
          found = true;
          break;
        }
      }
      if (found || live.has(r.id)) continue;
      if (r.state === 'done' && this.#o.hooks.settled(r.id)) {
        this.#records.delete(r.id);
        this.#o.hooks.onStreamForget(r.id);
      }
    }
    // Finished streams become done once every byte is acknowledged.
    for (const r of this.#records.values()) {
      if (r.state === 'rotated' && !live.has(r.id) && this.#o.hooks.settled(r.id)) r.state = 'done';
    }
  }

  // ---- reading ---------------------------------------------------------------------------------------------

  async #pump(lane: Lane): Promise<number> {
    const o = this.#o;
    let bytes = 0;
    while (lane.queue.length > 0 && bytes < o.passBytes && o.hooks.canRead()) {
      const s = lane.queue[0]!;
      if (!s.src && s.gzFile) {
        if (!(await this.#openGzip(lane, s))) return bytes;
      }
      const at = s.src!.position;
      const chunk = await s.src!.read();
      if (chunk && s === lane.active && at > s.rec.fp.len && !(await this.#sameContent(s))) {
        // Truncated and written again since the last look: this chunk may come from the middle of new content.
        this.#truncated(lane, s, (await s.fh!.stat()).size);
        await this.#openActive(lane);
        continue;
      }
      if (chunk) {
        bytes += chunk.length;
        if (at + chunk.length > s.rec.size) s.rec.size = at + chunk.length;
        if (s.rec.fp.len < FINGERPRINT_BYTES && at <= s.rec.fp.len) {
          // Grow the identity while the head is at hand: a file renamed and gzipped before the next poll is
          // then still recognised by content (an empty file's fingerprint matches nothing).
          const head = s.fh ? await readHead(s.fh) : at === 0 ? chunk : undefined;
          if (head && head.length > s.rec.fp.len) s.rec.fp = fingerprintOf(head);
        }
        s.framer.push(chunk, at, (line) => o.hooks.onLine(lane, s.rec, line));
        continue;
      }
      if (s === lane.active) break; // caught up with the writer
      lane.queue.shift();
      if (s.gzFile) {
        const gz = s.src as GzipSource;
        if (!gz.complete && (gz.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
          // Deleted (maxbackup) before we got to it: what was not read is gone. Say so, count it, move on.
          const lost = Math.max(0, s.rec.size - gz.position);
          o.metrics.bytesLost.inc(lost);
          o.logger.error(
            { file: s.gzFile, offset: gz.position, bytesLost: lost },
            'compressed backup was deleted before it was read to its end: its unread events are lost (raise --audit-log-maxbackup or keep tailship running)',
          );
          this.#finish(lane, s, gz.position, true);
          continue;
        }
        if (!gz.complete) {
          // Still being written by lumberjack's mill, or damaged: try again on a later pass.
          o.logger.debug({ file: s.gzFile, err: gz.error?.message }, 'gzip backup not complete yet; will retry');
          await gz.close();
          s.src = undefined;
          s.framer = liveFromRecord(s.rec, s.framer.pendingStart, o.maxLineBytes, s.phase).framer;
          lane.queue.unshift(s);
          break;
        }
        this.#finish(lane, s, gz.position, false);
      } else {
        s.phase = 'lingering';
        s.lingerUntil = o.now() + o.lingerMs;
        lane.lingering.push(s);
        // The next stream must not wait for the linger: its lines go to a new batch, which seals this one.
        o.hooks.onStreamEnd(s.rec);
      }
    }
    return bytes;
  }

  async #openGzip(lane: Lane, s: LiveStream): Promise<boolean> {
    const plain = s.gzFile!.slice(0, -3);
    if (await stat(plain).then(() => true, () => false)) return false; // mill still compressing: its plain twin is read first
    s.src = gzipSource(s.gzFile!, s.framer.pendingStart);
    void lane;
    return true;
  }

  /** No more bytes will come from this stream: the partial last line, if any, is final. */
  #finish(lane: Lane, s: LiveStream, end: number, replaced: boolean): void {
    if (!replaced) {
      const last = s.framer.flush(end);
      if (last) this.#o.hooks.onLine(lane, s.rec, last);
    }
    s.phase = 'finished';
    s.finalEnd = end;
    s.rec.size = Math.max(s.rec.size, end);
    s.rec.state = 'rotated';
    this.#o.hooks.onStreamEnd(s.rec);
    void s.src?.close().catch(() => undefined);
  }
}
