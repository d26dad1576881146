// The syslog sink against a real rsyslog (Debian's rsyslogd + rsyslog-gnutls) started by the test: every event
// arrives as one RFC 5424 message with its tags as structured data, framing intact (large and non-ASCII
// events included), over TCP and over TLS with a CA made by openssl; a CA that does not sign the receiver's
// certificate is blocked; and the real agent ships a sample audit log to rsyslog over TLS.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { auditEventId } from '../../src/audit/event-id.js';
import type { Batch } from '../../src/batch/batch.js';
import { createSink } from '../../src/deliver/create-sink.js';
import { SinkError } from '../../src/deliver/sink.js';
import { ErrorCodes } from '../../src/errors.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { createWorkspace, killAllAgents, type Workspace } from '../helpers/agent-process.js';
import { writeAuditFile } from '../e2e/support.js';
import { parse5424 } from '../helpers/rfc5424.js';
import { rsyslogAvailable, startRsyslog, type RsyslogServer } from '../helpers/rsyslog-server.js';
import { captureLogger, lineEvent, makeBatch, objectEvent } from '../unit/deliver/support.js';

const tcpOk = rsyslogAvailable(false);
const tlsOk = rsyslogAvailable(true);
if (!tcpOk || !tlsOk) console.warn('rsyslog / rsyslog-gnutls are not installed: run test/helpers/install-servers.sh');

let servers: RsyslogServer[] = [];
let ws: Workspace | undefined;
afterEach(async () => {
  await killAllAgents();
  await Promise.all(servers.map((s) => s.stop()));
  servers = [];
  ws?.cleanup();
  ws = undefined;
});

async function rsyslog(tls: boolean): Promise<RsyslogServer> {
  const s = await startRsyslog({ tls });
  servers.push(s);
  return s;
}

function sinkFor(uri: string) {
  return createSink(uri, { logger: captureLogger().logger, metrics: createMetrics(), env: {}, stateDir: '/nonexistent' });
}

/** Batches with what makes framing and escaping hard: quotes, backslashes, `]`, non-ASCII, a 300 KB event. */
function hardBatches(): Batch[] {
  const tags = { audit: 'api"server\\x]', __hostname__: 'node-1', __path__: '/var/log/kubernetes/audit.log', 'key with space=and]"': 'v', ['k'.repeat(40)]: 'long' };
  const batches: Batch[] = [];
  for (let b = 0; b < 5; b++) {
    const events = Array.from({ length: 40 }, (_, i) =>
      objectEvent({ kind: 'Event', auditID: `id-${b}-${i}`, stage: 'ResponseComplete', verb: 'get', user: { username: 'jörg 日本 😀' }, note: 'a ] b " c \\ d\n' }, 1_700_000_000 + i),
    );
    if (b === 2) events.push(objectEvent({ kind: 'Event', auditID: 'big', stage: 'ResponseComplete', requestObject: { data: 'x'.repeat(300_000) } }));
    if (b === 3) events.push(lineEvent('plain line, not JSON', 1_700_000_100, { __parse_error__: 'not a JSON object' }));
    batches.push(makeBatch({ events, tags, first: b * 100 }));
  }
  return batches;
}

async function shipAndCheck(server: RsyslogServer, uri: string): Promise<void> {
  const sink = sinkFor(uri);
  const batches = hardBatches();
  await Promise.all(batches.map((b) => sink.send(b))); // concurrent sends take turns on the connection
  const total = batches.reduce((n, b) => n + b.events.length, 0);
  const raw = await server.waitFor(total);
  await sink.close();
  await sink.close(); // idempotent
  expect(raw).toHaveLength(total);

  const expected = new Map<string, { batch: Batch; index: number }>();
  batches.forEach((batch) => batch.events.forEach((e, index) => expected.set(e.isObject ? e.raw : JSON.stringify({ content: e.raw }), { batch, index })));
  const seen = new Set<string>();
  for (const text of raw) {
    const m = parse5424(text);
    expect(m).toMatchObject({ pri: 10 * 8 + 6, version: 1, hostname: 'node-1', appName: 'tailship', procId: '-', msgId: '-' });
    const want = expected.get(m.msg);
    expect(want, `MSG is an event JSON exactly as sent: ${m.msg.slice(0, 100)}`).toBeDefined();
    seen.add(m.msg);
    expect(m.sd).toHaveLength(1);
    expect(m.sd[0]!.id).toBe('tags@32473');
    const params = Object.fromEntries(m.sd[0]!.params);
    expect(params).toMatchObject({ audit: 'api"server\\x]', __hostname__: 'node-1', __path__: '/var/log/kubernetes/audit.log', key_with_space_and__: 'v', ['k'.repeat(32)]: 'long' });
    const ev = want!.batch.events[want!.index]!;
    if (ev.isObject) {
      const obj = JSON.parse(ev.raw) as { auditID: string; stage: string };
      expect(params.__event_id__).toBe(auditEventId('', obj.auditID, obj.stage));
    } else {
      expect(params.__parse_error__).toBe('not a JSON object');
    }
  }
  expect(seen.size, 'every event arrived once').toBe(total);
  // rsyslog's own parse agrees: app-name, hostname, and MSG without a BOM (a JSON text).
  const parsed = server.parsed();
  expect(parsed).toHaveLength(total);
  for (const f of parsed) {
    expect(f[0]).toBe('86');
    expect(f[1]).toBe('node-1');
    expect(f[2]).toBe('tailship');
    expect(() => JSON.parse(f[7]!)).not.toThrow();
  }
}

describe.skipIf(!tcpOk)('syslog+tcp:// to a real rsyslog', () => {
  it('every event arrives as one RFC 5424 message, framing intact (a 300 KB event, non-ASCII, escapes)', async () => {
    const s = await rsyslog(false);
    await shipAndCheck(s, `syslog+tcp://127.0.0.1:${s.port}`);
  });

  it('a receiver that is not there is retryable (connect), and then a new one takes the batch', async () => {
    const s = await rsyslog(false);
    const port = s.port;
    await s.stop();
    servers = [];
    const sink = sinkFor(`syslog+tcp://127.0.0.1:${port}?timeout=3000`);
    const err = (await sink.send(makeBatch({ n: 2 })).catch((e: unknown) => e)) as SinkError;
    expect(err).toBeInstanceOf(SinkError);
    expect({ kind: err.kind, code: err.code }).toEqual({ kind: 'retryable', code: ErrorCodes.SINK_SYSLOG_CONNECT });
    await sink.close();
  });
});

describe.skipIf(!tlsOk)('syslog+tls:// to a real rsyslog (gtls)', () => {
  it('every event arrives over TLS with ?ca= trusting the test CA', async () => {
    const s = await rsyslog(true);
    await shipAndCheck(s, `syslog+tls://localhost:${s.port}?ca=${encodeURIComponent(s.tls!.ca)}`);
  });

  it('a receiver that checks client certificates (x509/name) takes the batch with ?cert=&key=', async () => {
    const s = await startRsyslog({ tls: true, clientAuth: true });
    servers.push(s);
    const q = `ca=${encodeURIComponent(s.tls!.ca)}&cert=${encodeURIComponent(s.tls!.clientCert)}&key=${encodeURIComponent(s.tls!.clientKey)}`;
    const sink = sinkFor(`syslog+tls://localhost:${s.port}?${q}`);
    const batch = makeBatch({ n: 20 });
    await sink.send(batch);
    const raw = await s.waitFor(20);
    expect(raw.map((t) => parse5424(t).msg)).toEqual(batch.events.map((e) => e.raw));
    await sink.close();

    // Without a client certificate: refused after the TLS 1.3 handshake. The batch must not count as sent.
    const bare = sinkFor(`syslog+tls://localhost:${s.port}?ca=${encodeURIComponent(s.tls!.ca)}`);
    const err = (await bare.send(makeBatch({ n: 5, first: 100 })).catch((e: unknown) => e)) as SinkError;
    expect(err).toBeInstanceOf(SinkError);
    expect({ kind: err.kind, code: err.code }).toEqual({ kind: 'blocked', code: ErrorCodes.SINK_SYSLOG_TLS });
    expect(err.message).toContain('?cert=');
    await bare.close();
  });

  it('without the CA the certificate is not trusted: blocked with the TLS code, nothing sent', async () => {
    const s = await rsyslog(true);
    const sink = sinkFor(`syslog+tls://localhost:${s.port}`);
    const err = (await sink.send(makeBatch({ n: 2 })).catch((e: unknown) => e)) as SinkError;
    expect(err).toBeInstanceOf(SinkError);
    expect({ kind: err.kind, code: err.code }).toEqual({ kind: 'blocked', code: ErrorCodes.SINK_SYSLOG_TLS });
    expect(err.message).toContain('?ca=');
    await sink.close();
    expect(s.messages()).toEqual([]);
  });

  it('the real agent ships an audit log to rsyslog over TLS: every event once, each MSG the event', async () => {
    const s = await rsyslog(true);
    ws = createWorkspace('rsyslog-agent');
    const lines = writeAuditFile(ws.activePath, 600, 77);
    const agent = ws.start(['--sink', `syslog+tls://localhost:${s.port}?ca=${encodeURIComponent(s.tls!.ca)}`, '--exit-when-idle']);
    const exit = await agent.waitExit(30_000);
    expect(exit.code, agent.stderrTail()).toBe(0);
    const raw = await s.waitFor(lines.length);
    const keys = raw.map((t) => {
      const ev = JSON.parse(parse5424(t).msg) as { auditID: string; stage: string };
      return `${ev.auditID} ${ev.stage}`;
    });
    expect(new Set(keys).size).toBe(lines.length);
    expect(keys.sort()).toEqual(lines.map((l) => `${l.auditID} ${l.stage}`).sort());
    expect(fs.existsSync(path.join(ws.stateDir, 'dead-letter')) ? fs.readdirSync(path.join(ws.stateDir, 'dead-letter')) : []).toEqual([]);
  });
});
