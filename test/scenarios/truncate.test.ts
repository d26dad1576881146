// Research §2.11 item 8: truncation in place (copytruncate by a foreign tool) while running, and a file truncated
// while the agent is down that has grown back past the old offset (only the fingerprint tells).
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { appender, scenario } from './harness.js';

describe('truncation (§2.11 #8)', () => {
  it.each([
    { name: 'smaller than the old offset', after: 30 },
    { name: 'grown past the old offset at once', after: 300 },
  ])('copytruncate while running, new content $name: read from 0', async ({ after }) => {
    const h = scenario(`copytruncate-${after}`);
    const file = appender(h.ws.activePath);
    h.emit(file, 100);
    h.start();
    await h.waitDelivered();
    const oldSize = fs.statSync(h.ws.activePath).size;
    // logrotate copytruncate: copy to .1 (not a lumberjack name, not configured), then truncate in place.
    fs.copyFileSync(h.ws.activePath, `${h.ws.activePath}.1`);
    fs.truncateSync(h.ws.activePath, 0);
    const lines = h.gen.take(after);
    file.write(lines.map((l) => l.line).join('')); // one write: the agent may only ever see the grown file
    for (const l of lines) h.record(l.key, l.line);
    if (after === 300) expect(fs.statSync(h.ws.activePath).size).toBeGreaterThan(oldSize);
    else expect(fs.statSync(h.ws.activePath).size).toBeLessThan(oldSize);
    await h.waitDelivered();
    h.emit(file, 10);
    await h.waitDelivered();
    await h.stop();
    file.close();
    h.assertExact();
    h.assertOrder();
    expect(h.logs().filter((l) => l.content !== undefined), 'no line read from the middle').toEqual([]);
  });

  it('copytruncate and regrowth past the old offset while the agent is frozen (SIGSTOP): read from 0, no line from the middle', async () => {
    const h = scenario('copytruncate-frozen');
    const file = appender(h.ws.activePath);
    h.emit(file, 100);
    const agent = h.start();
    await h.waitDelivered();
    const oldSize = fs.statSync(h.ws.activePath).size;
    agent.pause(); // deterministic version of the race above: the agent wakes up to a same-inode, bigger file
    fs.copyFileSync(h.ws.activePath, `${h.ws.activePath}.1`);
    fs.truncateSync(h.ws.activePath, 0);
    const lines = h.gen.take(300);
    file.write(lines.map((l) => l.line).join(''));
    for (const l of lines) h.record(l.key, l.line);
    expect(fs.statSync(h.ws.activePath).size).toBeGreaterThan(oldSize);
    agent.resume();
    await h.waitDelivered();
    h.emit(file, 10);
    await h.waitDelivered();
    await h.stop();
    file.close();
    h.assertExact();
    h.assertOrder();
    expect(h.logs().filter((l) => l.content !== undefined), 'no line read from the middle').toEqual([]);
  });

  it('truncated while stopped and rewritten past the old offset: the changed fingerprint restarts it from 0', async () => {
    const h = scenario('truncate-stopped');
    const file = appender(h.ws.activePath);
    h.emit(file, 100);
    h.start();
    await h.waitDelivered();
    await h.stop();
    const oldSize = fs.statSync(h.ws.activePath).size;
    const ino = fs.statSync(h.ws.activePath).ino;
    fs.truncateSync(h.ws.activePath, 0);
    h.emit(file, 200);
    expect(fs.statSync(h.ws.activePath).size).toBeGreaterThanOrEqual(oldSize);
    expect(fs.statSync(h.ws.activePath).ino).toBe(ino);
    h.start();
    await h.waitDelivered();
    await h.stop();
    file.close();
    h.assertExact();
    h.assertOrder();
    expect(h.logs().filter((l) => l.content !== undefined), 'no line read from the middle').toEqual([]);
  });
});
