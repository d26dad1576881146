import { describe, expect, it } from 'vitest';
import { batchChunks, frame, headerField, sdName, sdValue, syslogMessage, timestamp } from '../../../src/deliver/sinks/syslog/format.js';
import { parseSyslogUri } from '../../../src/deliver/sinks/syslog/options.js';
import { ErrorCodes, TailshipError } from '../../../src/errors.js';
import { parse5424, splitFrames } from '../../helpers/rfc5424.js';
import { lineEvent, makeBatch, objectEvent } from './support.js';

const opts = { facility: 10, severity: 6, bom: false };

describe('RFC 5424 pieces', () => {
  it('SD-NAME: printable ASCII without = space ] ", at most 32; __hostname__ stays as it is', () => {
    expect(sdName('__hostname__')).toBe('__hostname__');
    expect(sdName('a b=c]d"e')).toBe('a_b_c_d_e');
    expect(sdName('ключ')).toBe('____');
    expect(sdName('x'.repeat(40))).toHaveLength(32);
    expect(sdName('')).toBe('_');
  });
  it('PARAM-VALUE escapes ", \\ and ] (§6.3.3) and nothing else', () => {
    expect(sdValue('a"b\\c]d[e ü')).toBe('a\\"b\\\\c\\]d[e ü');
  });
  it('HOSTNAME is PRINTUSASCII, bounded, NILVALUE when empty', () => {
    expect(headerField('node 1', 255)).toBe('node_1');
    expect(headerField('', 255)).toBe('-');
    expect(headerField('h'.repeat(300), 255)).toHaveLength(255);
  });
  it('TIMESTAMP in UTC with microseconds', () => {
    expect(timestamp(1_700_000_000, 123_456_789)).toBe('2023-11-14T22:13:20.123456Z');
    expect(timestamp(0, 0)).toBe('-');
  });
});

describe('syslog message and framing', () => {
  it('<PRI>1 TIMESTAMP HOSTNAME tailship - - [tags@32473 …] MSG: MSG is the event JSON, no BOM by default', () => {
    const batch = makeBatch({ tags: { audit: 'a"]\\', __hostname__: 'node-1' }, events: [objectEvent({ auditID: 'x', stage: 'ResponseComplete', u: 'ü' }, 1_700_000_000)] });
    const text = syslogMessage(batch, batch.events[0]!, 0, opts);
    const m = parse5424(text);
    expect(m).toMatchObject({ pri: 86, version: 1, timestamp: '2023-11-14T22:13:20.000000Z', hostname: 'node-1', appName: 'tailship', procId: '-', msgId: '-' });
    expect(m.msg).toBe(batch.events[0]!.raw);
    expect(m.sd[0]!.params.slice(0, 2)).toEqual([['audit', 'a"]\\'], ['__hostname__', 'node-1']]);
    expect(m.sd[0]!.params[2]![0]).toBe('__event_id__');
    expect(syslogMessage(batch, batch.events[0]!, 0, { ...opts, bom: true })).toContain('] \uFEFF{');
  });

  it('a line that is not JSON goes as {"content": line}, its markers as tags', () => {
    const batch = makeBatch({ tags: {}, events: [lineEvent('plain', 5, { __parse_error__: 'not a JSON object' })] });
    const m = parse5424(syslogMessage(batch, batch.events[0]!, 0, opts));
    expect(m.msg).toBe('{"content":"plain"}');
    expect(Object.fromEntries(m.sd[0]!.params)).toMatchObject({ __parse_error__: 'not a JSON object' });
  });

  it('octet counting counts bytes, not characters; chunks hold whole frames only', () => {
    expect(frame('ü').toString()).toBe('2 ü');
    const batch = makeBatch({ n: 200 });
    const chunks = [...batchChunks(batch, opts, 4096)];
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(splitFrames(c).rest.length, 'no frame split across chunks').toBe(0);
    const all = splitFrames(Buffer.concat(chunks));
    expect(all.messages).toHaveLength(200);
    expect(all.messages.map((t) => parse5424(t).msg)).toEqual(batch.events.map((e) => e.raw));
  });
});

describe('syslog sink URI', () => {
  it('defaults: authpriv.info, port 514 / 6514, SNI only for names', () => {
    expect(parseSyslogUri('syslog+tcp://h')).toMatchObject({ tls: false, host: 'h', port: 514, facility: 10, severity: 6, bom: false });
    expect(parseSyslogUri('syslog+tls://logs.example')).toMatchObject({ tls: true, port: 6514, servername: 'logs.example' });
    expect(parseSyslogUri('syslog+tls://127.0.0.1:7000').servername).toBeUndefined();
    expect(parseSyslogUri('syslog+tcp://[::1]:601')).toMatchObject({ host: '::1', port: 601 });
    expect(parseSyslogUri('syslog+tcp://h?facility=local3&severity=notice&bom=true')).toMatchObject({ facility: 19, severity: 5, bom: true });
    expect(parseSyslogUri('syslog+tcp://h?facility=13&severity=0')).toMatchObject({ facility: 13, severity: 0 });
  });
  it.each([
    'syslog+udp://h',
    'syslog+tcp://',
    'syslog+tcp://h?facility=nope',
    'syslog+tcp://h?facility=24',
    'syslog+tcp://h?severity=8',
    'syslog+tcp://h?ca=/etc/hostname',
    'syslog+tls://h?ca=/nonexistent.pem',
    'syslog+tls://h?cert=/etc/hostname',
    'syslog+tcp://h/path',
    'syslog+tcp://u:p@h',
    'syslog+tcp://h?x=1',
  ])('%s is refused with the URI code', (uri) => {
    let err: unknown;
    try {
      parseSyslogUri(uri);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TailshipError);
    expect((err as TailshipError).code).toBe(ErrorCodes.SINK_SYSLOG_URI);
  });
});

describe('syslog sink: SPEC §10 per-sink parameters', () => {
  it('?policy=, ?redact=, ?schema= are left to the fan-out (accepted, not an error)', () => {
    expect(parseSyslogUri('syslog+tcp://h:514?schema=ecs&redact=all&policy=/p.yaml')).toMatchObject({ host: 'h', port: 514 });
  });
});
