// Issue 10 item 10: an input whose file cannot be opened is down (input_up 0) and lags by its size.
import { expect, test } from 'vitest';
import type { InputSpec } from '../../../src/config/types.js';
import { createMetrics } from '../../../src/observe/metrics.js';
import { Budget, updateGauges } from '../../../src/run/wiring.js';
import { quietSignals } from '../../../src/tail/signals.js';
import { Tailer } from '../../../src/tail/tailer.js';
import { MemFs } from './mem-fs.js';

const ACTIVE = '/logs/kubernetes.audit';
const INPUT = { key: 'audit', path: ACTIVE, hostPath: ACTIVE, json: false, tags: {} } as unknown as InputSpec;

test('item 10: an unreadable file shows its size as lag (not 0), input_up 0 with the reason; readable again: up', async () => {
  const fs = new MemFs();
  fs.mkdir('/logs');
  fs.create(ACTIVE);
  fs.append(ACTIVE, Buffer.from('x'.repeat(99) + '\n'));
  let denied = true;
  const open = fs.open.bind(fs);
  fs.open = async (p: string) => {
    if (denied) throw Object.assign(new Error(`EACCES: permission denied, open '${p}'`), { code: 'EACCES' });
    return open(p);
  };
  let t = 1_000;
  const warns: string[] = [];
  const tailer = new Tailer({
    ...{ inputs: [INPUT], records: [], startAt: 'beginning', backfill: false, maxLineBytes: 1024, fs, now: () => t },
    signals: { ...quietSignals, warn: (_f, m) => void warns.push(m) },
    hooks: { onLine: () => undefined, onStreamOpen: () => undefined, onStreamEnd: () => undefined, canRead: () => true },
    acks: { committed: () => undefined, settled: () => true, forget: () => undefined },
  });
  const metrics = createMetrics();
  const gauges = () => updateGauges(metrics, { store: { lastSavedAt: 0 }, budget: new Budget(1 << 20), lanes: tailer.lanes, committed: () => undefined, now: t, health: tailer.health.all() });
  await tailer.discover();
  t += 5_000;
  await tailer.discover();
  gauges();
  expect((await metrics.fileLag.get()).values[0]!.value).toBe(100);
  expect((await metrics.inputUp.get()).values[0]!.value).toBe(0);
  expect(tailer.health.notReady(t, 60_000)).toBeUndefined();
  expect(tailer.health.notReady(t, 5_000)).toMatch(/cannot be opened/);
  expect(warns).toHaveLength(1);
  denied = false;
  await tailer.discover();
  await tailer.read();
  gauges();
  expect((await metrics.inputUp.get()).values[0]!.value).toBe(1);
  expect(tailer.health.notReady(t, 0)).toBeUndefined();
});
