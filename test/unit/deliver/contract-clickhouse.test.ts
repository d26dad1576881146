import { afterAll, beforeAll } from 'vitest';
import { createSink } from '../../../src/deliver/create-sink.js';
import { silentLogger } from '../../../src/observe/log.js';
import { createMetrics } from '../../../src/observe/metrics.js';
import { clickHouseAvailable, startClickHouse, type ClickHouseServer } from '../../helpers/clickhouse-server.js';
import { startFaultGate } from '../../helpers/fault-gate.js';
import { sinkContract } from './sink-contract.js';

// clickhouse+http:// against the sink contract, on a REAL ClickHouse (Debian's clickhouse-server, started once for
// this file; a fresh table per case), behind a fault gate for the faults one server cannot be made to show on
// demand: down (the gate refuses connections), and answers worded as ClickHouse 18.16 words them (a row it cannot
// parse: 500 + Code 27; a wrong password: Code 193), or a proxy in front of it (413).
const available = clickHouseAvailable();
let ch: ClickHouseServer | undefined;
beforeAll(async () => {
  if (available) ch = await startClickHouse();
}, 60_000);
afterAll(async () => {
  await ch?.stop();
});

let tables = 0;
sinkContract(
  'clickhouse',
  async () => {
    const server = ch!;
    const table = `tsdb.contract${++tables}`;
    const gate = await startFaultGate(server.url);
    const answer = (status: number, body: string) => () => gate.answer({ status, body });
    const heal = () => gate.answer(undefined);
    return {
      sink: createSink(`clickhouse+${gate.url}/${table}?create=true`, { logger: silentLogger(), metrics: createMetrics(), env: {}, stateDir: '/nonexistent' }),
      stored: async () => {
        const exists = (await server.query(`EXISTS TABLE ${table}`)).trim() === '1';
        if (!exists) return [];
        const rows = (await server.query(`SELECT event FROM ${table} ORDER BY event_time, event FORMAT JSONEachRow`)).split('\n').filter(Boolean);
        return rows.map((r) => (JSON.parse((JSON.parse(r) as { event: string }).event) as { auditID: string }).auditID);
      },
      faults: {
        down: { inject: () => gate.stop(), heal: () => gate.start() },
        reject: { inject: answer(500, 'Code: 27, e.displayText() = DB::Exception: Cannot parse input: expected { before: x, e.what() = DB::Exception\n'), heal },
        tooLarge: { inject: answer(413, '<html><body><h1>413 Request Entity Too Large</h1></body></html>'), heal },
        auth: { inject: answer(500, 'Code: 193, e.displayText() = DB::Exception: Wrong password for user tailship, e.what() = DB::Exception\n'), heal },
      },
      cleanup: async () => {
        await gate.close();
        await server.query(`DROP TABLE IF EXISTS ${table}`);
      },
    };
  },
  available ? {} : { skip: 'clickhouse-server is not installed (test/helpers/install-servers.sh)' },
);
