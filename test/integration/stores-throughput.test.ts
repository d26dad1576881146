// Throughput of the ClickHouse and syslog sinks into the real servers, on real audit events (the fixtures'
// templates through the seeded generator), 4096-event batches as the agent makes by default. Opt-in, it is a
// measurement, not a check:  TAILSHIP_STORE_BENCH=1 npx vitest run test/integration/stores-throughput.test.ts
import { afterAll, expect, it } from 'vitest';
import type { Batch } from '../../src/batch/batch.js';
import { createSink } from '../../src/deliver/create-sink.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { parseLine } from '../../src/parse/parse-line.js';
import { createAuditGen } from '../helpers/audit-gen.js';
import { clickHouseAvailable, startClickHouse, type ClickHouseServer } from '../helpers/clickhouse-server.js';
import { rsyslogAvailable, startRsyslog, type RsyslogServer } from '../helpers/rsyslog-server.js';
import { captureLogger, makeBatch } from '../unit/deliver/support.js';

const on = process.env.TAILSHIP_STORE_BENCH === '1';
const BATCHES = 20;
const PER_BATCH = 4096;
let ch: ClickHouseServer | undefined;
let rs: RsyslogServer | undefined;
afterAll(async () => {
  await ch?.stop();
  await rs?.stop();
});

function batches(): Batch[] {
  const gen = createAuditGen({ seed: 99, largeRate: 0.002 });
  return Array.from({ length: BATCHES }, (_, b) => {
    const events = gen.take(PER_BATCH).map((l) => parseLine(l.line.replace(/\n$/, ''), false, true, Date.now()));
    return makeBatch({ events, first: b * PER_BATCH });
  });
}

async function measure(uri: string): Promise<string> {
  const all = batches();
  const bytes = all.reduce((n, b) => n + b.rawBytes, 0);
  const sink = createSink(uri, { logger: captureLogger('warn').logger, metrics: createMetrics(), env: {}, stateDir: '/nonexistent' });
  await sink.send(makeBatch({ n: 1, first: 10_000_000 })); // connection, version, table
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let next = 0;
  await Promise.all([0, 1, 2, 3].map(async () => {
    while (next < all.length) await sink.send(all[next++]!);
  }));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  await sink.close();
  return `${BATCHES * PER_BATCH} events, ${(bytes / 1e6).toFixed(1)} MB in ${s.toFixed(2)} s: ${Math.round((BATCHES * PER_BATCH) / s)} events/s, ${(bytes / 1e6 / s).toFixed(1)} MB/s; tailship CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s`;
}

it.skipIf(!on || !clickHouseAvailable())('clickhouse sink throughput (gzip 3, 4 sends at a time)', async () => {
  ch = await startClickHouse();
  const line = await measure(`clickhouse+${ch.url}/bench.audit?create=true`);
  console.log(`[throughput clickhouse 18.16] ${line}`);
  expect(Number((await ch.query('SELECT count() FROM bench.audit FINAL')).trim())).toBe(BATCHES * PER_BATCH + 1);
}, 120_000);

it.skipIf(!on || !rsyslogAvailable(true))('syslog sink throughput over TCP and TLS (rsyslog writing to a file)', async () => {
  rs = await startRsyslog();
  console.log(`[throughput syslog+tcp] ${await measure(`syslog+tcp://127.0.0.1:${rs.port}`)}`);
  await rs.waitFor(BATCHES * PER_BATCH + 1, 60_000);
  await rs.stop();
  rs = await startRsyslog({ tls: true });
  console.log(`[throughput syslog+tls] ${await measure(`syslog+tls://localhost:${rs.port}?ca=${encodeURIComponent(rs.tls!.ca)}`)}`);
  await rs.waitFor(BATCHES * PER_BATCH + 1, 60_000);
}, 180_000);
