// Shared set-up of the scenario tests: a scratch workspace, a seeded event generator, the record of every event
// written (in write order, with the file it went to), the agent process, and the exact-multiset assertions.
import fs from 'node:fs';
import { onTestFinished } from 'vitest';
import { createAuditGen, type AuditGen, type AuditGenOptions, type AuditLine } from '../helpers/audit-gen.js';
import {
  createWorkspace,
  hasAllKeys,
  killAllAgents,
  waitForLogs,
  type AgentProcess,
  type StartAgentOptions,
  type Workspace,
} from '../helpers/agent-process.js';
import { createLumberjack, type Lumberjack, type LumberjackOptions } from '../helpers/lumberjack.js';
import {
  assertExactKeys,
  keysOf,
  logKey,
  orderProblem,
  SinkReader,
  type KeyDiff,
  type ShippedLog,
} from '../helpers/ndjson.js';

/** Something that takes one write per event: a lumberjack writer or a plain appender. */
export interface LineSink {
  write(data: string | Buffer): void;
}

export interface Written {
  key: string;
  line: string;
  /** The writer it went through and how many rotations that writer had made right after this write. */
  writer?: Lumberjack;
  generation: number;
}

export class Harness {
  readonly ws: Workspace;
  readonly gen: AuditGen;
  readonly written: Written[] = [];
  readonly reader: SinkReader;
  agent: AgentProcess | undefined;
  readonly agents: AgentProcess[] = [];
  private readonly writers: Lumberjack[] = [];

  constructor(name: string, genOpts: AuditGenOptions) {
    this.ws = createWorkspace(name);
    this.gen = createAuditGen(genOpts);
    this.reader = this.ws.reader();
  }

  /** A lumberjack writer on the workspace's active file (defaults: 1 MiB, keep all backups, no gzip). */
  lumberjack(opts: Partial<LumberjackOptions> = {}): Lumberjack {
    const lj = createLumberjack({ path: this.ws.activePath, maxSizeBytes: 1024 * 1024, maxBackups: 0, compress: false, ...opts });
    this.writers.push(lj);
    return lj;
  }

  /** Writes `n` generated events through `sink`, one write each, and records them. */
  emit(sink: LineSink, n: number): AuditLine[] {
    const lines = this.gen.take(n);
    this.emitLines(sink, lines);
    return lines;
  }

  /** Writes the given generated lines through `sink` and records them. */
  emitLines(sink: LineSink, lines: AuditLine[]): void {
    for (const l of lines) {
      sink.write(l.line);
      this.record(l.key, l.line, sink);
    }
  }

  /** Records an event written some other way (split writes, raw bytes), so that it is expected. */
  record(key: string, line: string, sink?: LineSink): void {
    const lj = this.writers.find((w) => w === sink);
    this.written.push(lj ? { key, line, writer: lj, generation: lj.rotations.length } : { key, line, generation: 0 });
  }

  keysWritten(from = 0, to = this.written.length): string[] {
    return this.written.slice(from, to).map((w) => w.key);
  }

  start(extra: string[] = [], opts: Partial<StartAgentOptions> = {}): AgentProcess {
    const a = this.ws.start(extra, opts);
    this.agent = a;
    this.agents.push(a);
    return a;
  }

  /** Waits until every key in `keys` (default: all written) has been delivered at least as often as listed. */
  async waitDelivered(keys: string[] = this.keysWritten(), timeoutMs = 30_000): Promise<ShippedLog[]> {
    return waitForLogs(this.reader, hasAllKeys(keys, logKey), { agent: this.agent, timeoutMs });
  }

  /** SIGTERM the current agent and require exit 0. */
  async stop(): Promise<void> {
    if (!this.agent) return;
    await this.agent.stop();
  }

  logs(): ShippedLog[] {
    return this.reader.all();
  }

  deliveredKeys(): string[] {
    return keysOf(this.logs());
  }

  /** The sink output must be exactly the written events (default: all), each once; also no garbage lines. */
  assertExact(expected: string[] = this.keysWritten()): KeyDiff {
    const logs = this.logs();
    if (this.reader.garbage.length) throw new Error(`the sink wrote lines that are not JSON objects:\n${this.reader.garbage.slice(0, 5).join('\n')}`);
    return assertExactKeys(expected, keysOf(logs));
  }

  /** First deliveries of `expected` (unique keys) must come in write order. */
  assertOrder(expected: string[] = this.keysWritten()): void {
    const problem = orderProblem(expected, this.deliveredKeys());
    if (problem) throw new Error(problem);
  }

  /**
   * Within each file (same writer, same rotation generation) first deliveries come in write order. Across files a
   * running agent may interleave (SPEC promises no global order); that is reported by noteCrossFileOrder().
   */
  assertOrderPerFile(from = 0): void {
    const groups = new Map<string, string[]>();
    for (const w of this.written.slice(from)) {
      const g = w.writer ? `${this.writers.indexOf(w.writer)}:${w.generation}` : 'untracked';
      const list = groups.get(g) ?? [];
      list.push(w.key);
      groups.set(g, list);
    }
    const delivered = this.deliveredKeys();
    for (const [g, keys] of groups) {
      const problem = orderProblem(keys, delivered);
      if (problem) throw new Error(`within file ${g} (writer:rotation): ${problem}`);
    }
  }

  /** Logs (does not fail) when files were delivered out of their rotation order. */
  noteCrossFileOrder(label: string, from = 0): void {
    const problem = orderProblem(this.keysWritten(from), this.deliveredKeys());
    if (problem) console.log(`[${label}] note: files delivered out of rotation order (not a SPEC requirement while running): ${problem}`);
  }

  /** Stops agents and writers; keeps the workspace when the test failed (its path is printed). */
  async dispose(failed: boolean): Promise<void> {
    await killAllAgents();
    for (const w of this.writers) await w.close().catch(() => undefined);
    if (failed) {
      console.log(`[scenario] kept workspace for inspection: ${this.ws.root}`);
      for (const a of this.agents) if (a.stderrLines.length) console.log(`[scenario] agent ${a.pid} stderr tail:\n${a.stderrTail(15)}`);
    } else {
      this.ws.cleanup();
    }
  }
}

/** Creates a Harness for the current test and disposes of it when the test ends. */
export function scenario(name: string, genOpts: Partial<AuditGenOptions> = {}): Harness {
  const h = new Harness(name, { seed: hashSeed(name), ...genOpts });
  onTestFinished(async (ctx) => {
    await h.dispose(ctx.task.result?.state === 'fail');
  });
  return h;
}

/** A plain appender (O_APPEND, one write(2) per call), for scenarios that are not lumberjack's doing. */
export function appender(file: string): LineSink & { close(): void } {
  const fd = fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_APPEND | fs.constants.O_WRONLY, 0o644);
  return {
    write(data) {
      const buf = typeof data === 'string' ? Buffer.from(data) : data;
      let off = 0;
      while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
    },
    close() {
      fs.closeSync(fd);
    },
  };
}

/** Stable per-name seed, so every scenario has its own reproducible data. */
export function hashSeed(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The JSON of a written line without its newline (and a CR), for deep comparison with a delivered log. */
export function parseWritten(line: string): Record<string, unknown> {
  return JSON.parse(line.replace(/\r?\n$/, '')) as Record<string, unknown>;
}

/** A delivered log without the reserved keys the agent adds. */
export function withoutReserved(log: ShippedLog): Record<string, unknown> {
  const { __time__: _t, __tag__: _g, ...rest } = log;
  return rest;
}
