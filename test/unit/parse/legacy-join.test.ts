import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { parseLine } from '../../../src/parse/parse-line.js';
import type { ShipEvent } from '../../../src/parse/ship-event.js';
import { createLegacyJoin, legacyPendingPath } from '../../../src/process/legacy-join.js';
import type { EventContext, ProcessorResult } from '../../../src/process/stage.js';

const FIX = new URL('../../fixtures/audit/legacy/', import.meta.url);
const lines = (name: string): string[] => fs.readFileSync(new URL(name, FIX), 'utf8').split('\n').filter(Boolean);
const REQ = '2017-02-09T00:15:57.992775796Z AUDIT: id="AAA" ip="1.2.3.4" method="GET" user="kubecfg" as="<self>" asgroups="<lookup>" namespace="default" uri="/api/v1/pods"';
const RESP = '2017-02-09T00:15:57.993528822Z AUDIT: id="AAA" response="200"';
const at = (sec: string, id: string, extra = 'response="201"'): string => `2017-02-09T00:${sec}Z AUDIT: id="${id}" ${extra}`;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'legacy-join-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const ev = (line: string): ShipEvent => parseLine(line, false, true, Date.now());
const ctx = (offset: number, stream = 's1'): EventContext => ({ inputKey: 'audit', stream, offset, tags: {} });
const list = (r: ProcessorResult): ShipEvent[] => (r === null ? [] : Array.isArray(r) ? r : [r]);
const objs = (r: ProcessorResult): Array<Record<string, unknown>> => list(r).map((e) => JSON.parse(e.raw) as Record<string, unknown>);

describe('legacy-join stage', () => {
  test('JSON events pass untouched (same object); a legacy line arrives as a parse error and leaves as an Event', () => {
    const stage = createLegacyJoin({ stateDir: dir, inputKey: 'audit', keepRaw: false });
    const json = ev('{"kind":"Event","auditID":"x","stage":"ResponseComplete"}');
    expect(stage(json, ctx(0))).toBe(json);
    const [line] = lines('k8s-docs-1.8-legacy-stages.audit.log');
    const input = ev(line!);
    expect(input.isObject).toBe(false);
    expect(input.markers?.__parse_error__).toBeTruthy();
    const out = list(stage(input, ctx(0)));
    expect(out).toHaveLength(1);
    expect(out[0]!.isObject).toBe(true);
    expect(out[0]!.markers).toBeUndefined(); // not a parse error any more
    expect(out[0]!.time).toBe(Date.parse('2017-09-05T10:08:19Z') / 1000);
    expect(out[0]!.timeNs).toBe(885328047);
    expect(input.markers?.__parse_error__).toBeTruthy(); // the argument is not mutated
    expect(fs.existsSync(legacyPendingPath(dir, 'audit'))).toBe(false); // nothing held, no file
  });

  test('the pre-1.7 pair: the request line is held (null), the response returns the joined event', () => {
    const stage = createLegacyJoin({ stateDir: dir, inputKey: 'audit', keepRaw: true });
    const [req, resp] = lines('fluentd-k8s-daemonset-example.audit.log');
    expect(stage(ev(req!), ctx(0))).toBeNull();
    // held durably before returning
    expect(fs.readFileSync(legacyPendingPath(dir, 'audit'), 'utf8')).toContain('90c73c7c');
    const [joined] = objs(stage(ev(resp!), ctx(req!.length + 1)));
    expect(joined).toMatchObject({ auditID: '90c73c7c-97d6-4b65-9461-f94606ff825f', stage: 'ResponseComplete', verb: 'get', responseStatus: { code: 200 } });
    expect(joined!.__legacy__).toBe(`${req}\n${resp}`);
  });

  test('unterminated quote: kept as content with __parse_error__ naming the problem', () => {
    const stage = createLegacyJoin({ stateDir: dir, inputKey: 'audit', keepRaw: false });
    const bad = '2017-02-09T00:15:57Z AUDIT: id="a" user="never closed';
    const [out] = list(stage(ev(bad), ctx(0)));
    expect(out!.isObject).toBe(false);
    expect(out!.raw).toBe(bad);
    expect(out!.markers?.__parse_error__).toMatch(/unterminated quote/);
  });

  test('a request line without response within 5 s (log time) is released with __unpaired__, together with the next event', () => {
    const stage = createLegacyJoin({ stateDir: dir, inputKey: 'audit', keepRaw: false });
    expect(stage(ev(at('00:00.000000000', 'R1', 'ip="1" method="GET" user="u" uri="/x"')), ctx(0))).toBeNull();
    // 4 s later: still waiting
    expect(list(stage(ev(at('00:04', 'OTHER', 'stage="ResponseComplete" method="get" uri="/y" response="200"')), ctx(100)))).toHaveLength(1);
    // 6 s later: released first, then the current event
    const out = list(stage(ev(at('00:06', 'OTHER2', 'stage="ResponseComplete" method="get" uri="/y" response="200"')), ctx(200)));
    expect(out).toHaveLength(2);
    expect(JSON.parse(out[0]!.raw)).toMatchObject({ auditID: 'R1', stage: 'RequestReceived', requestURI: '/x' });
    expect(out[0]!.markers).toEqual({ __unpaired__: 'true' });
    expect(JSON.parse(out[1]!.raw)).toMatchObject({ auditID: 'OTHER2' });
    // a late response line is shipped alone, tagged too
    const late = list(stage(ev(at('00:07', 'R1')), ctx(300)));
    expect(late[0]!.markers).toEqual({ __unpaired__: 'true' });
    expect(JSON.parse(late[0]!.raw)).toMatchObject({ auditID: 'R1', stage: 'ResponseComplete', responseStatus: { code: 201 } });
  });

  test('restart between the two lines: the held line is loaded and joined (and survives a rotation: another stream)', () => {
    const a = createLegacyJoin({ stateDir: dir, inputKey: 'audit', keepRaw: false });
    expect(a(ev(REQ), ctx(0, 'old-file'))).toBeNull();
    const b = createLegacyJoin({ stateDir: dir, inputKey: 'audit', keepRaw: false, committed: () => new Map([['old-file', 500]]) });
    const [joined] = objs(b(ev(RESP), ctx(0, 'new-file')));
    expect(joined).toMatchObject({ auditID: 'AAA', stage: 'ResponseComplete', requestURI: '/api/v1/pods', responseStatus: { code: 200 } });
  });

  test('never shipped twice: a release counts once the checkpoint is past the line that shipped it', () => {
    const a = createLegacyJoin({ stateDir: dir, inputKey: 'audit', keepRaw: false });
    a(ev(REQ), ctx(0));
    expect(objs(a(ev(RESP), ctx(1000)))).toHaveLength(1);
    // crash before the response line's batch was acknowledged (committed 1000): it is read again and joins again
    const b = createLegacyJoin({ stateDir: dir, inputKey: 'audit', keepRaw: false, committed: () => new Map([['s1', 1000]]) });
    expect(objs(b(ev(RESP), ctx(1000)))[0]).toMatchObject({ stage: 'ResponseComplete', verb: 'get' });
    // crash after it was acknowledged (committed past 1000): the held line is gone for good
    const c = createLegacyJoin({ stateDir: dir, inputKey: 'audit', keepRaw: false, committed: () => new Map([['s1', 1100]]) });
    const late = list(c(ev(at('59:00', 'ZZZ', 'stage="ResponseComplete" method="get" uri="/" response="200"')), ctx(2000)));
    expect(late).toHaveLength(1); // nothing released unpaired
    // the request line re-read (not committed) while held is not held twice
    const d = createLegacyJoin({ stateDir: dir, inputKey: 'audit', keepRaw: false });
    d(ev(REQ), ctx(0));
    d(ev(REQ), ctx(0));
    const released = list(d(ev(at('59:59', 'Q', 'stage="ResponseComplete" method="get" uri="/" response="200"')), ctx(5000)));
    expect(released.filter((e) => e.markers?.__unpaired__)).toHaveLength(1);
  });
});
