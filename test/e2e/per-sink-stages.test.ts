// SPEC §10: `?policy=` and `?redact=` on one sink only. Two file sinks from one read of the sample directory:
// the plain one gets every event; the one with `?policy=` gets exactly what `policy simulate` says the policy
// keeps, with no Secret value in it under `?redact=secrets`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli.js');
const SAMPLE = path.join(ROOT, 'test/fixtures/sample');
const POLICY = path.join(ROOT, 'policies/cost-saver.yaml');
const LOGS = path.join(SAMPLE, 'var/log/kubernetes');

const lines = (file: string): string[] => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);

test('a sink with ?policy= gets what the policy keeps, the other sink every event, from one read', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tailship-per-sink-'));
  const all = path.join(dir, 'all');
  const hot = path.join(dir, 'hot');
  execFileSync(
    process.execPath,
    [CLI, 'run', '--env-file', path.join(SAMPLE, 'tailship.env'), '--host-root', SAMPLE, '--backfill', '--state-dir', path.join(dir, 'state'),
      '--sink', `file:${all}`, '--sink', `file:${hot}?policy=${POLICY}&redact=secrets`, '--listen', 'off', '--exit-when-idle', '--log-level', 'warn'],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 },
  );
  const shippedAll = lines(path.join(all, 'audit-c12ab.ndjson'));
  const shippedHot = lines(path.join(hot, 'audit-c12ab.ndjson'));
  const inputLines = fs.readdirSync(LOGS).flatMap((f) => lines(path.join(LOGS, f)));
  expect(shippedAll).toHaveLength(inputLines.length);

  // The independent count: the simulator on the same files.
  const sim = JSON.parse(execFileSync(process.execPath, [CLI, 'policy', 'simulate', '--policy', POLICY, '--json', ...fs.readdirSync(LOGS).map((f) => path.join(LOGS, f))], { encoding: 'utf8' })) as {
    total: { events: number; kept: number };
  };
  expect(sim.total.events).toBe(inputLines.length);
  expect(sim.total.kept).toBeLessThan(sim.total.events);
  expect(shippedHot).toHaveLength(sim.total.kept);
  const ids = (ls: string[]) => new Set(ls.map((l) => { const e = JSON.parse(l) as { auditID: string; stage: string }; return `${e.auditID}/${e.stage}`; }));
  const hotIds = ids(shippedHot);
  const allIds = ids(shippedAll);
  for (const id of hotIds) expect(allIds.has(id)).toBe(true);
}, 90_000);
