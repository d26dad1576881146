// The crash loop the torture tests share (SPEC §4 + §10): a lumberjack writer rotates audit lines while the real
// agent is SIGKILLed at seeded random moments and restarted on the same state dir; then everything left is
// written, one last agent ships it all and exits when idle. What the store must hold is each test's own check;
// the loop returns what was written (one `auditID stage` key per event, in write order) to check it against.
import fs from 'node:fs';
import { expect } from 'vitest';
import { waitUntil, type AgentProcess, type Workspace } from './agent-process.js';
import { createAuditGen, type Rng } from './audit-gen.js';
import { createLumberjack } from './lumberjack.js';

export interface CrashLoopOptions {
  ws: Workspace;
  /** Picks the kill moments; the caller's, so that a store fault drawn from the same sequence stays as it was. */
  rng: Rng;
  /** Seed of the audit generator. */
  seed: number;
  /** The writer gzips its backups. */
  compress: boolean;
  /** `run` arguments of every agent (the killed ones and the last). */
  args: string[];
  /** Arguments added for the killed agents only. */
  killedArgs?: string[];
  /** How many agents are SIGKILLed. */
  rounds: number;
  /** Each kill comes `minMs + floor(rng.next() * spanMs)` ms into its round. */
  killAfter: { minMs: number; spanMs: number };
  /** After the round's agent is started (and, in round 0, has written its first checkpoint). */
  afterStart?: (agent: AgentProcess, round: number) => Promise<void>;
  /** After the round's writing, before its kill: `write(n)` writes n more events. */
  beforeKill?: (agent: AgentProcess, round: number, write: (n: number) => void) => Promise<void>;
  /** After the last events are written, before the last agent starts. */
  beforeLast?: () => void;
  /** How long the last agent may take to ship everything and exit. */
  lastTimeoutMs: number;
}

export interface CrashLoopResult {
  /** One key per written event, in write order. */
  written: string[];
  /** Renames the writer made. */
  rotations: number;
  /** The last agent (exited 0). */
  last: AgentProcess;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs the loop; fails (expect) unless the last agent exits 0. */
export async function runCrashLoop(o: CrashLoopOptions): Promise<CrashLoopResult> {
  const { ws, rng } = o;
  const gen = createAuditGen({ seed: o.seed });
  let t = Date.UTC(2026, 10, 20, 8);
  const lj = createLumberjack({ path: ws.activePath, maxSizeBytes: 256 * 1024, maxBackups: 0, compress: o.compress, now: () => new Date((t += 7)) });
  const written: string[] = [];
  const write = (n: number): void => {
    for (const l of gen.take(n)) {
      lj.write(l.line);
      written.push(l.key);
    }
  };
  write(100);
  for (let round = 0; round < o.rounds; round++) {
    const agent = ws.start([...o.args, ...(o.killedArgs ?? [])]);
    if (round === 0) {
      // Before the first checkpoint a restart is a first start again (backups are history that only --backfill
      // ships): wait for it.
      await waitUntil(() => fs.existsSync(`${ws.stateDir}/checkpoints.json`), () => 'the first checkpoint', { agent });
    }
    await o.afterStart?.(agent, round);
    const deadline = Date.now() + o.killAfter.minMs + Math.floor(rng.next() * o.killAfter.spanMs);
    while (Date.now() < deadline) {
      write(40);
      await sleep(20);
    }
    await o.beforeKill?.(agent, round, write);
    agent.kill('SIGKILL');
    await agent.waitExit(10_000);
  }
  for (const l of gen.drain()) {
    lj.write(l.line);
    written.push(l.key);
  }
  await lj.close();
  o.beforeLast?.();
  const last = ws.start([...o.args, '--exit-when-idle']);
  const exit = await last.waitExit(o.lastTimeoutMs);
  expect(exit.code, last.stderrTail()).toBe(0);
  return { written, rotations: lj.rotations.length, last };
}

/** How often each key occurs. */
export function tally(keys: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return counts;
}

/** The distinct written keys the store does not have, in write order. */
export function missingKeys(written: Iterable<string>, stored: { has(key: string): boolean }): string[] {
  return [...new Set(written)].filter((k) => !stored.has(k));
}
