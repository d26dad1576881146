// Research §2.11 items 12 and 13: odd lines never stall the stream nor get dropped — oversized (cut and tagged),
// empty, CRLF, invalid UTF-8, invalid JSON (shipped as content with __parse_error__), legacy-format text lines,
// and many requests sharing one client-set Audit-ID.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_FIXTURES } from '../helpers/audit-gen.js';
import { hasAllKeys, waitForLogs } from '../helpers/agent-process.js';
import { assertExactKeys, eventKey, keysOf, logKey, SinkReader, textKey, type ShippedLog } from '../helpers/ndjson.js';
import { appender, parseWritten, scenario, withoutReserved } from './harness.js';

const MAX_LINE = 8192;

describe('odd lines (§2.11 #12)', () => {
  it('cuts an oversized line, skips empty lines, tolerates CRLF and invalid UTF-8, ships invalid JSON as content', async () => {
    const h = scenario('lines');
    const file = appender(h.ws.activePath);
    h.emit(file, 20);

    // Empty lines: "\n" and "\r\n" carry no event and are skipped.
    file.write('\n\n\r\n');

    // Oversized: a ~30 KB ResponseComplete above --max-line-bytes 8192 ⇒ cut to 8192 bytes, tagged, stream goes on.
    const [bigReceived, bigComplete] = h.gen.large(30_000);
    h.emitLines(file, [bigReceived!, bigComplete!]);
    expect(bigComplete!.bytes).toBeGreaterThan(3 * MAX_LINE);

    // Just under the limit: shipped whole.
    const [nearReceived, nearComplete] = h.gen.large(4_500);
    h.emitLines(file, [nearReceived!, nearComplete!]);
    expect(nearComplete!.bytes).toBeLessThan(MAX_LINE - 16);

    // CRLF: the real apisnoop log has CRLF line ends and ~3 KB lines.
    const crlf = fs.readFileSync(path.join(AUDIT_FIXTURES, 'apisnoop-example-user-agent.log'), 'utf8');
    const crlfLines = crlf.split('\n').filter((l) => l.trim() !== '');
    expect(crlfLines.every((l) => l.endsWith('\r'))).toBe(true);
    file.write(crlf);
    for (const l of crlfLines) h.record(textKey(l), `${l}\n`);

    h.start(['--max-line-bytes', String(MAX_LINE)]);
    await h.waitDelivered();

    // Invalid UTF-8 inside a string value of an otherwise fine event.
    const [bad] = h.gen.take(1);
    const marker = '"verb":"';
    const at = bad!.line.indexOf(marker) + marker.length;
    const badBytes = Buffer.concat([Buffer.from(bad!.line.slice(0, at)), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(bad!.line.slice(at))]);
    file.write(badBytes);
    h.record(bad!.key, bad!.line);

    // Invalid JSON: each is shipped as {"content": line} with __parse_error__, and the stream goes on.
    const invalid = [
      '{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"broken-1","stage":"ResponseComplete","verb":',
      'this is not json',
      '[1,2,3]',
      '"a string"',
      '42',
      'null',
    ];
    for (const l of invalid) {
      file.write(`${l}\n`);
      h.record(textKey(l), `${l}\n`);
    }
    // Falco's fuzz case: valid JSON, one object, but not an audit Event — shipped as the object it is.
    file.write('{"kind": 0}\n');
    h.record(`json:${JSON.stringify({ kind: 0 })}`, '{"kind": 0}\n');

    h.emit(file, 20);
    await h.waitDelivered();
    await h.stop();
    file.close();

    h.assertExact();
    const logs = h.logs();
    const find = (key: string): ShippedLog => logs.find((l) => logKey(l) === key)!;

    const cutLog = find(bigComplete!.key);
    expect(cutLog.content, 'the oversized line is shipped as content').toBeTypeOf('string');
    expect(cutLog.__tag__?.__truncated__).toBe('true');
    const cutBytes = Buffer.byteLength(cutLog.content!);
    expect(cutBytes, 'cut to --max-line-bytes (UTF-8 safe)').toBeLessThanOrEqual(MAX_LINE);
    expect(cutBytes).toBeGreaterThanOrEqual(MAX_LINE - 3);
    expect(bigComplete!.line.startsWith(cutLog.content!), 'the cut text is the start of the line').toBe(true);

    for (const l of [bigReceived!, nearReceived!, nearComplete!]) {
      const log = find(l.key);
      expect(withoutReserved(log), `${l.key} shipped whole`).toEqual(parseWritten(l.line));
      expect(log.__tag__?.__truncated__).toBeUndefined();
    }
    for (const l of crlfLines) {
      const log = find(textKey(l));
      expect(withoutReserved(log), 'CRLF line parsed, CR removed').toEqual(parseWritten(l));
      expect(log.__tag__?.__parse_error__).toBeUndefined();
    }
    const badLog = find(bad!.key);
    if (badLog.content === undefined) {
      expect(badLog.verb, 'invalid bytes decoded as U+FFFD').toMatch(/\uFFFD/);
    } else {
      expect(badLog.__tag__?.__parse_error__, 'invalid UTF-8 shipped as content must say why').toBeTruthy();
    }
    for (const l of invalid) {
      const log = find(textKey(l));
      expect(log.content).toBe(l);
      expect(typeof log.__tag__?.__parse_error__ === 'string' && log.__tag__.__parse_error__.length > 0, `__parse_error__ on ${l}`).toBe(true);
    }
    expect(find(`json:${JSON.stringify({ kind: 0 })}`).__tag__?.__parse_error__).toBeUndefined();
    expect(logs.some((l) => l.content === '' || l.content === '\r'), 'empty lines are skipped').toBe(false);
  });

  it('ships a line longer than the whole in-flight budget whole (the budget is looked at before each read)', async () => {
    const h = scenario('line-over-budget');
    const file = appender(h.ws.activePath);
    h.emit(file, 5);
    const [received, complete] = h.gen.large(300_000);
    h.emitLines(file, [received!, complete!]);
    expect(complete!.bytes).toBeGreaterThan(4 * 65536);
    h.emit(file, 5);
    h.start(['--max-inflight-bytes', '64K', '--batch-max-bytes', '16K', '--max-line-bytes', '1M']);
    await h.waitDelivered();
    await h.stop();
    file.close();
    h.assertExact();
    const log = h.logs().find((l) => logKey(l) === complete!.key);
    expect(withoutReserved(log!), 'the line over the budget, whole').toEqual(parseWritten(complete!.line));
    expect(log!.__tag__?.__truncated__).toBeUndefined();
  });
});

describe('legacy format and Audit-ID collisions (§2.11 #13)', () => {
  // SPEC §9 (issue 13): on a JSON input a legacy line is converted to an audit.k8s.io/v1 Event (the pre-1.7 pair
  // joined into one); on a text input it stays a plain line.
  it('converts legacy text lines to Events on a JSON input, ships them plain on a text input', async () => {
    const h = scenario('legacy');
    const jsonPath = path.join(h.ws.logDir, 'legacy-json.log');
    const textPath = path.join(h.ws.logDir, 'legacy-text.log');
    h.ws.writeEnv(jsonPath, { more: [`aliyun_logs_legacy-text=${textPath}`] });
    const legacyDir = path.join(AUDIT_FIXTURES, 'legacy');
    const lines: string[] = [];
    for (const f of fs.readdirSync(legacyDir).filter((f) => f.endsWith('.log')).sort()) {
      lines.push(...fs.readFileSync(path.join(legacyDir, f), 'utf8').split('\n').filter((l) => l !== ''));
    }
    expect(lines.length).toBe(6);
    fs.writeFileSync(jsonPath, lines.map((l) => `${l}\n`).join(''));
    fs.writeFileSync(textPath, lines.map((l) => `${l}\n`).join(''));
    const expected = lines.map((l) => `content:${l}`);
    const events = [
      eventKey('90c73c7c-97d6-4b65-9461-f94606ff825f', 'ResponseComplete'),
      eventKey('591e9fde-6a98-46f6-b7bc-ec8ef575696d', 'RequestReceived'),
      eventKey('591e9fde-6a98-46f6-b7bc-ec8ef575696d', 'ResponseComplete'),
      eventKey('c28a95ad-f9dd-47e1-a617-b6dc152db95f', 'RequestReceived'),
      eventKey('c28a95ad-f9dd-47e1-a617-b6dc152db95f', 'ResponseComplete'),
    ];

    h.start();
    const textReader = new SinkReader(h.ws.outDir, 'legacy-text');
    await h.waitDelivered(events);
    await waitForLogs(textReader, hasAllKeys(expected, logKey), { agent: h.agent });
    await h.stop();

    assertExactKeys(events, keysOf(h.logs()), 'JSON input');
    assertExactKeys(expected, keysOf(textReader.all()), 'text input');
    for (const log of h.logs()) {
      expect(log.__tag__?.__parse_error__, `JSON input, ${log.auditID}`).toBeUndefined();
      expect(log.apiVersion).toBe('audit.k8s.io/v1');
    }
    for (const log of textReader.all()) {
      expect(log.__tag__?.__parse_error__, 'a text input has no parse errors').toBeUndefined();
      expect(log.__tag__?.__path__).toBe(textPath);
    }
  });

  it('delivers every request when many share one client-set Audit-ID, with stages far apart', async () => {
    const h = scenario('collisions', { collisionRate: 0.5, collisionIds: ['same-audit-id', 'e2e-fixed'], maxOpen: 40, largeBytes: [16 * 1024, 48 * 1024] });
    const lj = h.lumberjack({ maxSizeBytes: 64 * 1024 });
    h.emit(lj, 150); // rotates before the agent starts: --backfill reads those backups on this first start
    h.start(['--backfill']);
    h.emit(lj, 250);
    h.emitLines(lj, h.gen.drain());
    await h.waitDelivered();
    await h.stop();
    const same = h.keysWritten().filter((k) => k === eventKey('same-audit-id', 'RequestReceived')).length;
    expect(same, 'the generator really made collisions').toBeGreaterThan(20);
    expect(lj.rotations.length).toBeGreaterThan(2);
    h.assertExact();
  });
});
