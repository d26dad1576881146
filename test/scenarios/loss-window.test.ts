// Issue 10 item 4 (SPEC §7): backups deleted while the agent is down. A real loss names the file, the bytes (or
// "unknown") and the missing window and moves tailship_files_lost_total; a backup read to its end moves nothing.
import { describe, expect, it } from 'vitest';
import { freePort, scrapeMetric, waitReady, waitUntil } from '../helpers/agent-process.js';
import { parseWritten, scenario } from './harness.js';

const timeOf = (line: string): string => {
  const e = parseWritten(line);
  return new Date(String(e.stageTimestamp ?? e.requestReceivedTimestamp)).toISOString();
};

describe('item 4: loss while the agent is down', () => {
  it('item 4: an unread file deleted while down: the loss line names file, bytes/unknown and window; files_lost moves', async () => {
    const h = scenario('loss-window');
    const lj = h.lumberjack({ maxSizeBytes: 1024 * 1024, maxBackups: 1, compress: false });
    h.emit(lj, 100);
    h.start();
    await h.waitDelivered();
    await h.stop();
    const lastBefore = h.written[h.written.length - 1]!.line;

    const lostFrom = h.written.length;
    h.emit(lj, 60); // appended while down, then rotated away and deleted: never read
    const lostTo = h.written.length;
    lj.rotate();
    const firstAfter = h.emit(lj, 40)[0]!.line;
    lj.rotate(); // backup 1 (the checkpointed file with the 60) deleted
    h.emit(lj, 30);
    await lj.millIdle();
    const lost = new Set(h.keysWritten(lostFrom, lostTo));
    const expected = h.keysWritten().filter((k) => !lost.has(k));

    const port = await freePort();
    const agent = h.start(['--listen', `127.0.0.1:${port}`]);
    await h.waitDelivered(expected);
    const loss = await waitUntil(
      () => agent.warnings().find((l) => l.level === 50 && l.file !== undefined),
      () => `an error line about the lost file; warnings:\n${agent.warnings().map((l) => l.raw).join('\n') || '(none)'}`,
      { agent, timeoutMs: 15_000 },
    );
    expect(String(loss.file)).toMatch(/kubernetes\.audit/);
    expect(loss.bytesLost).toBe('unknown');
    expect(loss.lastEventBefore).toBe(timeOf(lastBefore));
    expect(loss.firstEventAfter).toBe(timeOf(firstAfter));
    expect(await scrapeMetric(port, 'tailship_files_lost_total')).toBe(1);
    expect(await scrapeMetric(port, 'tailship_bytes_lost_total')).toBe(0);
    await h.stop();
    h.assertExact(expected);
  });

  it('item 4: a fully read backup deleted while down moves no metric and logs nothing above info', async () => {
    const h = scenario('loss-none');
    const lj = h.lumberjack({ maxSizeBytes: 1024 * 1024, maxBackups: 1, compress: false });
    h.emit(lj, 50);
    h.start();
    await h.waitDelivered();
    lj.rotate(); // read to its end while running; stopped before its 5 s linger ends (state still "rotated")
    h.emit(lj, 50);
    await h.waitDelivered();
    await h.stop();
    lj.rotate(); // the read backup is deleted while down
    h.emit(lj, 20);
    await lj.millIdle();
    expect(lj.removed.length).toBe(1);

    const port = await freePort();
    const agent = h.start(['--listen', `127.0.0.1:${port}`, '--log-level', 'info']);
    await waitReady(port);
    await h.waitDelivered();
    expect(await scrapeMetric(port, 'tailship_files_lost_total')).toBe(0);
    expect(await scrapeMetric(port, 'tailship_bytes_lost_total')).toBe(0);
    await h.stop();
    expect(agent.warnings().map((l) => l.raw)).toEqual([]);
    h.assertExact();
  });
});
