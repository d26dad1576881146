// Issue 10 item 12: the progress line says what is true (paused, not catching up) and only when something moved.
import { afterEach, expect, test, vi } from 'vitest';
import { createMetrics } from '../../../src/observe/metrics.js';
import { ProgressReporter } from '../../../src/observe/progress.js';
import { captureLogger } from '../deliver/support.js';

afterEach(() => void vi.useRealTimers());
const settle = () => new Promise((r) => setImmediate(r));

test('item 12: idle, a progress line only as a heartbeat every 10 min; a line when something moved', async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(0);
  const log = captureLogger('info');
  const metrics = createMetrics();
  const p = new ProgressReporter(log.logger, metrics, () => 1);
  for (let t = 30_000; t <= 10 * 60_000 + 30_000; t += 30_000) {
    vi.setSystemTime(t);
    p.tick(true);
    await settle();
  }
  expect(log.lines.length).toBe(1); // the first heartbeat; none for the next 10 min
  metrics.bytesRead.inc(100);
  vi.setSystemTime(11 * 60_000 + 30_000);
  p.tick(true);
  await settle();
  expect(log.lines.length).toBe(2);
  expect(log.lines[1]!.msg).toBe('progress');
});

test('item 12: reading paused with the store not acknowledging says so, with the batches waiting, and no ETA', async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(0);
  const log = captureLogger('info');
  const metrics = createMetrics();
  metrics.fileLag.set({ path: '/a' }, 200 << 20);
  const p = new ProgressReporter(log.logger, metrics, () => 1, { pending: () => 7, paused: () => true });
  metrics.bytesRead.inc(16 << 20);
  vi.setSystemTime(30_000);
  p.tick(false);
  await settle();
  expect(log.lines[0]!.msg).toBe('paused: the store is not acknowledging (7 batches waiting)');
  expect(log.lines[0]!.etaSeconds).toBeUndefined();
});
