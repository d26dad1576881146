// At-least-once into a real rsyslog over TCP while the agent is SIGKILLed mid-stream and restarted on the same
// state dir: every event arrives (duplicates allowed: TCP syslog has no acknowledgement, see syslog-sink.ts), and
// each message rsyslog stored is a whole RFC 5424 message whose MSG is one event JSON. A kill can cut the last
// frame of a connection; what rsyslog makes of that cut frame is counted and reported, never mistaken for an event.
import fs from 'node:fs';
import { afterEach, expect, test } from 'vitest';
import { createWorkspace, killAllAgents, waitUntil, type Workspace } from '../helpers/agent-process.js';
import { createAuditGen, createRng } from '../helpers/audit-gen.js';
import { createLumberjack } from '../helpers/lumberjack.js';
import { parse5424 } from '../helpers/rfc5424.js';
import { rsyslogAvailable, startRsyslog, type RsyslogServer } from '../helpers/rsyslog-server.js';

let ws: Workspace | undefined;
let rs: RsyslogServer | undefined;
afterEach(async () => {
  await killAllAgents();
  await rs?.stop();
  ws?.cleanup();
});

test.skipIf(!rsyslogAvailable(false))('SIGKILL while shipping to rsyslog over TCP: every event arrives, every stored message whole', async () => {
  rs = await startRsyslog();
  ws = createWorkspace('rsyslog-crash');
  const rng = createRng(0x5151);
  const gen = createAuditGen({ seed: 31 });
  let t = Date.UTC(2026, 10, 20, 8);
  const lj = createLumberjack({ path: ws.activePath, maxSizeBytes: 256 * 1024, maxBackups: 0, compress: false, now: () => new Date((t += 7)) });
  const written: string[] = [];
  const write = (n: number): void => {
    for (const l of gen.take(n)) {
      lj.write(l.line);
      written.push(l.key);
    }
  };
  const args = ['--sink', `syslog+tcp://127.0.0.1:${rs.port}`, '--batch-max-events', '50', '--batch-max-wait', '20'];
  write(100);
  for (let round = 0; round < 4; round++) {
    const agent = ws.start(args);
    if (round === 0) {
      // Before the first checkpoint a restart is a first start again (backups are history): wait for it.
      await waitUntil(() => fs.existsSync(`${ws!.stateDir}/checkpoints.json`), () => 'the first checkpoint', { agent });
    }
    const deadline = Date.now() + 200 + Math.floor(rng.next() * 500);
    while (Date.now() < deadline) {
      write(40);
      await new Promise((r) => setTimeout(r, 20));
    }
    agent.kill('SIGKILL');
    await agent.waitExit(10_000);
  }
  for (const l of gen.drain()) {
    lj.write(l.line);
    written.push(l.key);
  }
  await lj.close();
  const last = ws.start([...args, '--exit-when-idle']);
  const exit = await last.waitExit(60_000);
  expect(exit.code, last.stderrTail()).toBe(0);

  const want = new Set(written);
  // rsyslog writes asynchronously: wait until every key is there (or time out with what is missing).
  const got = new Map<string, number>();
  const broken: string[] = [];
  const end = Date.now() + 20_000;
  for (;;) {
    got.clear();
    broken.length = 0;
    for (const text of rs.messages()) {
      try {
        const ev = JSON.parse(parse5424(text).msg) as { auditID: string; stage: string };
        const k = `${ev.auditID} ${ev.stage}`;
        got.set(k, (got.get(k) ?? 0) + 1);
      } catch {
        broken.push(text.slice(0, 200));
      }
    }
    if ([...want].every((k) => got.has(k)) || Date.now() > end) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const missing = [...want].filter((k) => !got.has(k));
  const dups = [...got.values()].reduce((n, c) => n + c - 1, 0);
  console.log(`[rsyslog crash] wrote ${written.length} events, 4 SIGKILLs; rsyslog stored ${rs.messages().length} messages: ${dups} duplicates, ${broken.length} cut by a kill, ${missing.length} missing`);
  expect(missing.slice(0, 10), 'events that never arrived').toEqual([]);
  expect([...got.keys()].filter((k) => !want.has(k)), 'foreign events').toEqual([]);
  // A kill cuts at most the frame being written on that connection.
  expect(broken.length, `messages that are not whole: ${broken.join('\n')}`).toBeLessThanOrEqual(4);
}, 90_000);
