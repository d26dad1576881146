import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import tls from 'node:tls';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DedupeWindow } from '../../../../src/inputs/webhook/dedupe.js';
import { startServer, type RunningServer } from '../../../../src/inputs/webhook/server.js';
import { Spool } from '../../../../src/inputs/webhook/spool.js';
import { createLogger } from '../../../../src/observe/log.js';
import { makeCerts, makeLeaf, type TestCerts } from './certs.js';
import { eventList, post } from './post.js';

const DOCS = fs.readFileSync(new URL('../../../fixtures/eventlists/k8s-docs-1.8-webhook-eventlist.v1beta1.json', import.meta.url));
let root: string;
let certs: TestCerts;
let server: RunningServer;
let spool: Spool;
let unacked = 0;
const spoolText = () => fs.readFileSync(path.join(root, 'spool', 'audit.log'), 'utf8');

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'webhook-server-'));
  certs = makeCerts(path.join(root, 'certs'));
  // the server reads copies, so that the reload test can replace them
  for (const f of ['server.crt', 'server.key']) fs.copyFileSync(path.join(certs.dir, f), path.join(root, f));
  const dedupe = new DedupeWindow({ file: path.join(root, 'dedupe.keys') });
  spool = new Spool({ dir: path.join(root, 'spool'), rotateBytes: 64 << 20, maxUnackedBytes: 64 << 20, committed: () => [], dedupe, logger: createLogger('silent') });
  const realFull = spool.full.bind(spool);
  spool.full = (extra = 0) => (unacked > 0 ? unacked + extra > 1000 : realFull(extra));
  server = await startServer(
    { host: '127.0.0.1', port: 0, tls: { cert: path.join(root, 'server.crt'), key: path.join(root, 'server.key'), clientCa: certs.ca }, timeoutMs: 1500, memoryBudgetBytes: 96 << 20, retryAfterSeconds: 5, tlsPollMs: 100 },
    { spool, dedupe, logger: createLogger('silent') },
  );
}, 30_000);
afterAll(async () => {
  await server?.close();
  await spool?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('webhook server (HTTPS, client certificate)', () => {
  test('the real EventList: 200, spooled once; the retry is a duplicate', async () => {
    const r = await post(server.port, DOCS, { certs });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ accepted: 1, duplicates: 0 });
    expect(spoolText()).toContain('24f30caf-d7d4-45d5-b7bd-e7af300d7886');
    const again = await post(server.port, DOCS, { certs });
    expect(JSON.parse(again.body)).toEqual({ accepted: 0, duplicates: 1 });
    expect(spoolText().split('24f30caf').length - 1).toBe(1);
  });

  test('no client certificate, or one from another CA: the handshake is refused; good clients are still served', async () => {
    await expect(post(server.port, DOCS, { certs, client: 'none' })).rejects.toThrow();
    await expect(post(server.port, DOCS, { certs, client: 'other' })).rejects.toThrow();
    expect((await post(server.port, eventList('after-refused', 1).body, { certs })).status).toBe(200);
  });

  test('not an EventList: 400 with a code, nothing kept', async () => {
    const before = spoolText();
    const r = await post(server.port, Buffer.from('{"kind":"Pod"}'), { certs });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).code).toBe('TAILSHIP_E_WEBHOOK_NOT_EVENTLIST');
    const bad = eventList('half', 10).body.toString().replace('"auditID":"half-9",', '');
    expect((await post(server.port, Buffer.from(bad), { certs })).status).toBe(400);
    expect(spoolText()).toBe(before);
  });

  test('a 1 GB body: 413 without reading it (streamed, never allocated), with or without Content-Length', async () => {
    const t0 = Date.now();
    const declared = await post(server.port, Readable.from((function* () {})()), { certs, headers: { 'content-length': String(1 << 30) } });
    expect(declared.status).toBe(413);
    let sent = 0;
    const chunk = Buffer.alloc(1 << 20, 0x20);
    const gen = Readable.from(
      (function* () {
        yield Buffer.from('{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[');
        while (sent < 1 << 30) {
          sent += chunk.length;
          yield chunk;
        }
      })(),
    );
    const chunked = await post(server.port, gen, { certs });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body).code).toBe('TAILSHIP_E_WEBHOOK_TOO_LARGE');
    expect(sent).toBeLessThan(200 << 20); // the client was cut off long before 1 GB
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  test('gzip bodies are accepted; a zip bomb is refused after decompression', async () => {
    const { body, keys } = eventList('gz', 100);
    const r = await post(server.port, gzipSync(body), { certs, headers: { 'content-encoding': 'gzip' } });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).accepted).toBe(keys.length);
    const bomb = gzipSync(Buffer.alloc(100 << 20, 0x20)); // ~100 KB that inflates to 100 MB
    expect(bomb.length).toBeLessThan(1 << 20);
    const b = await post(server.port, bomb, { certs, headers: { 'content-encoding': 'gzip' } });
    expect(b.status).toBe(413);
    expect((await post(server.port, body, { certs, headers: { 'content-encoding': 'br' } })).status).toBe(415);
  });

  test('a client that sends one byte a second is cut at the timeout; others are served meanwhile', async () => {
    const sock = tls.connect({ host: '127.0.0.1', port: server.port, ca: fs.readFileSync(certs.ca), cert: fs.readFileSync(certs.clientCert), key: fs.readFileSync(certs.clientKey) });
    await new Promise<void>((r) => sock.once('secureConnect', () => r()));
    const closed = new Promise<string>((r) => {
      let got = '';
      sock.on('data', (d: Buffer) => (got += d.toString()));
      sock.on('close', () => r(got));
    });
    const t0 = Date.now();
    sock.write('POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n');
    const drip = setInterval(() => sock.writable && sock.write('{'), 1000);
    const other = await post(server.port, eventList('meanwhile', 5).body, { certs });
    expect(other.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(1000);
    const answer = await closed;
    clearInterval(drip);
    expect(Date.now() - t0).toBeLessThan(6000);
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
  });

  test('a full spool answers 429 with Retry-After, keeping nothing', async () => {
    unacked = 5000;
    try {
      const r = await post(server.port, eventList('full', 3).body, { certs });
      expect(r.status).toBe(429);
      expect(r.headers['retry-after']).toBe('5');
      expect(spoolText()).not.toContain('full-0');
    } finally {
      unacked = 0;
    }
    expect((await post(server.port, eventList('full', 3).body, { certs })).status).toBe(200); // the retry is not a duplicate
  });

  test('certificates re-read when the files change; a bad new pair keeps the old one', async () => {
    const cnOf = () =>
      new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: server.port, ca: fs.readFileSync(certs.ca), cert: fs.readFileSync(certs.clientCert), key: fs.readFileSync(certs.clientKey), servername: 'localhost' }, () => {
          resolve(String(s.getPeerCertificate().subject.CN));
          s.end();
        });
        s.on('error', reject);
      });
    expect(await cnOf()).toBe('tailship-webhook');
    makeLeaf(certs.dir, 'server2', 'ca', 'renewed', 'IP:127.0.0.1,DNS:localhost');
    fs.copyFileSync(path.join(certs.dir, 'server2.key'), path.join(root, 'server.key.new'));
    fs.copyFileSync(path.join(certs.dir, 'server2.crt'), path.join(root, 'server.crt.new'));
    fs.renameSync(path.join(root, 'server.key.new'), path.join(root, 'server.key'));
    fs.renameSync(path.join(root, 'server.crt.new'), path.join(root, 'server.crt'));
    await expect.poll(cnOf, { timeout: 5000, interval: 100 }).toBe('renewed');
    // a certificate whose key does not match: still the renewed one
    fs.copyFileSync(certs.serverCert, path.join(root, 'server.crt'));
    await new Promise((r) => setTimeout(r, 400));
    expect(await cnOf()).toBe('renewed');
  });
});
