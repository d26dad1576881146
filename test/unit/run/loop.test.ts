// The run loop without timers: each step is driven with a fake clock and fake parts.
import { expect, test } from 'vitest';
import { IDLE_POLL_MAX_MS, POLL_MS, RunLoop, Waker, type LoopParts } from '../../../src/run/loop.js';
import { FakeClock } from './fake-clock.js';

function parts(clock: FakeClock, over: Partial<LoopParts> = {}) {
  const calls: string[] = [];
  let reads: number[] = [];
  let open = 0;
  let pending = 0;
  const p: LoopParts = {
    tailer: {
      discover: async () => void calls.push('discover'),
      read: async () => {
        calls.push('read');
        return reads.shift() ?? 0;
      },
      caughtUp: () => reads.length === 0,
      watchDirs: () => ['/logs'],
    },
    watch: (dirs) => void calls.push(`watch ${dirs.join(',')}`),
    batcher: {
      sealAll: () => void (calls.push('sealAll'), (open = 0)),
      sealDue: () => (open > 0 ? 40 : undefined),
      get openCount() {
        return open;
      },
    },
    checkpointer: { schedule: () => void calls.push('schedule'), idle: true },
    pendingBatches: () => pending,
    overBudget: () => false,
    progress: () => undefined,
    exitWhenIdle: false,
    clock,
    ...over,
  };
  return { p, calls, setReads: (r: number[]) => (reads = r), setOpen: (n: number) => (open = n), setPending: (n: number) => (pending = n) };
}

test('discovers only when the poll is due or a directory hint came', async () => {
  const clock = new FakeClock();
  const { p, calls } = parts(clock);
  const loop = new RunLoop(p);
  await loop.step(clock.now());
  expect(calls).not.toContain('discover');
  clock.advance(POLL_MS);
  await loop.step(clock.now());
  expect(calls.filter((c) => c === 'discover')).toHaveLength(1);
  expect(calls).toContain('watch /logs');
  loop.hint();
  await loop.step(clock.now());
  expect(calls.filter((c) => c === 'discover')).toHaveLength(2);
});

test('goes on at once while there is data; sleeps until the next due batch or poll when idle', async () => {
  const clock = new FakeClock();
  const h = parts(clock);
  const loop = new RunLoop(h.p);
  h.setReads([100]);
  expect(await loop.step(clock.now())).toEqual({ idle: false, sleepMs: 0 });
  h.setOpen(1);
  expect(await loop.step(clock.now())).toEqual({ idle: false, sleepMs: 40 });
  h.setOpen(0);
  expect(await loop.step(clock.now())).toEqual({ idle: false, sleepMs: POLL_MS });
});

test('over the in-flight budget it waits even though it read', async () => {
  const clock = new FakeClock();
  const h = parts(clock, { overBudget: () => true });
  h.setReads([100]);
  expect((await new RunLoop(h.p).step(0)).sleepMs).toBe(POLL_MS);
});

test('over the budget an open batch is sealed at once (reading waits for acks, so the batch would only wait too)', async () => {
  const clock = new FakeClock();
  let over = false;
  const h = parts(clock, { overBudget: () => over });
  const loop = new RunLoop(h.p);
  h.setReads([100]);
  h.setOpen(1);
  await loop.step(0);
  expect(h.calls).not.toContain('sealAll');
  over = true;
  h.setReads([100]);
  await loop.step(0);
  expect(h.calls).toContain('sealAll');
});

test('--exit-when-idle: seals what is open once caught up, idle only when nothing is pending', async () => {
  const clock = new FakeClock();
  const h = parts(clock, { exitWhenIdle: true });
  const loop = new RunLoop(h.p);
  h.setOpen(1);
  h.setPending(1);
  expect((await loop.step(0)).idle).toBe(false);
  expect(h.calls).toContain('sealAll');
  h.setPending(0);
  expect((await loop.step(0)).idle).toBe(true);
});

test('the waker ends a sleep early, and the sleep ends by itself on time', async () => {
  const clock = new FakeClock();
  const w = new Waker(clock);
  let done = false;
  const s = w.sleep(1000).then(() => (done = true));
  clock.advance(999);
  await Promise.resolve();
  expect(done).toBe(false);
  w.wake();
  await s;
  expect(clock.pending).toBe(0);
  const s2 = w.sleep(10);
  clock.advance(10);
  await s2;
});

test('item 12: idle, the poll backs off to IDLE_POLL_MAX_MS (the watch is told), and is back at POLL_MS once data moves', async () => {
  const clock = new FakeClock();
  const idle: boolean[] = [];
  const h = parts(clock, { idle: (b) => void idle.push(b) });
  const loop = new RunLoop(h.p);
  const sleeps: number[] = [];
  for (let i = 0; i < 10; i++) {
    const r = await loop.step(clock.now());
    sleeps.push(r.sleepMs);
    clock.advance(r.sleepMs);
  }
  expect(sleeps.slice(0, 5)).toEqual([POLL_MS, POLL_MS, POLL_MS, POLL_MS, POLL_MS]);
  expect(sleeps.at(-1)).toBe(IDLE_POLL_MAX_MS);
  expect(idle).toEqual([true]);
  h.setReads([100]);
  await loop.step(clock.now());
  expect(idle).toEqual([true, false]);
  expect((await loop.step(clock.now())).sleepMs).toBe(POLL_MS);
});
