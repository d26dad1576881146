// At-least-once into a real rsyslog over TCP while the agent is SIGKILLed mid-stream and restarted on the same
// state dir: every event arrives (duplicates allowed: TCP syslog has no acknowledgement, see syslog-sink.ts), and
// each message rsyslog stored is a whole RFC 5424 message whose MSG is one event JSON. A kill can cut the last
// frame of a connection; what rsyslog makes of that cut frame is counted and reported, never mistaken for an event.
import { afterEach, expect, test } from 'vitest';
import { createWorkspace, killAllAgents, type Workspace } from '../helpers/agent-process.js';
import { createRng } from '../helpers/audit-gen.js';
import { missingKeys, runCrashLoop, tally } from '../helpers/crash-loop.js';
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
  const { written } = await runCrashLoop({
    ws,
    rng: createRng(0x5151),
    seed: 31,
    compress: false,
    args: ['--sink', `syslog+tcp://127.0.0.1:${rs.port}`, '--batch-max-events', '50', '--batch-max-wait', '20'],
    rounds: 4,
    killAfter: { minMs: 200, spanMs: 500 },
    lastTimeoutMs: 60_000,
  });

  const want = new Set(written);
  // rsyslog writes asynchronously: wait until every key is there (or time out with what is missing).
  let got = new Map<string, number>();
  const broken: string[] = [];
  const end = Date.now() + 20_000;
  for (;;) {
    const keys: string[] = [];
    broken.length = 0;
    for (const text of rs.messages()) {
      try {
        const ev = JSON.parse(parse5424(text).msg) as { auditID: string; stage: string };
        keys.push(`${ev.auditID} ${ev.stage}`);
      } catch {
        broken.push(text.slice(0, 200));
      }
    }
    got = tally(keys);
    if ([...want].every((k) => got.has(k)) || Date.now() > end) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const missing = missingKeys(want, got);
  const dups = [...got.values()].reduce((n, c) => n + c - 1, 0);
  console.log(`[rsyslog crash] wrote ${written.length} events, 4 SIGKILLs; rsyslog stored ${rs.messages().length} messages: ${dups} duplicates, ${broken.length} cut by a kill, ${missing.length} missing`);
  expect(missing.slice(0, 10), 'events that never arrived').toEqual([]);
  expect([...got.keys()].filter((k) => !want.has(k)), 'foreign events').toEqual([]);
  // A kill cuts at most the frame being written on that connection.
  expect(broken.length, `messages that are not whole: ${broken.join('\n')}`).toBeLessThanOrEqual(4);
}, 90_000);
