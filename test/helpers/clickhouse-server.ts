// A real ClickHouse server (Debian's `clickhouse-server`, 18.16 on Debian 12) started by the test itself: a child
// process on 127.0.0.1, its config, data and logs in a temp dir, free ports, ready when /ping answers; stopped
// (by its pid) after. Install it with test/helpers/install-servers.sh.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './agent-process.js';

export const CLICKHOUSE_BIN = '/usr/sbin/clickhouse-server';

export function clickHouseAvailable(): boolean {
  return fs.existsSync(CLICKHOUSE_BIN) || spawnSync('which', ['clickhouse-server']).status === 0;
}

export interface ClickHouseServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  dir: string;
  /** A user with a password (besides `default` without one). */
  user: string;
  password: string;
  /** Runs a query as `default` and returns the answer text (throws on non-200). */
  query(sql: string): Promise<string>;
  /** SIGKILL the server, then start it again on the same data and port (a crash of the store). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function configXml(dir: string, httpPort: number, tcpPort: number): string {
  return `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/server.log</log><errorlog>${dir}/server.err.log</errorlog></logger>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
</yandex>
`;
}

function usersXml(user: string, password: string): string {
  const u = (name: string, pw: string): string =>
    `<${name}><password>${pw}</password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></${name}>`;
  return `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users>${u('default', '')}${u(user, password)}</users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`;
}

export async function startClickHouse(): Promise<ClickHouseServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tailship-clickhouse-'));
  const port = await freePort();
  const tcpPort = await freePort();
  const user = 'tailship';
  const password = 'ch-s3cret-pw';
  fs.writeFileSync(path.join(dir, 'config.xml'), configXml(dir, port, tcpPort));
  fs.writeFileSync(path.join(dir, 'users.xml'), usersXml(user, password));
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const launch = async (): Promise<void> => {
    const out = fs.openSync(path.join(dir, 'stdout.log'), 'a');
    child = spawn(CLICKHOUSE_BIN, [`--config-file=${path.join(dir, 'config.xml')}`], { cwd: dir, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const c = child;
    exited = new Promise<void>((r) => c.once('exit', () => r()));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (c.exitCode !== null || c.signalCode !== null) {
        throw new Error(`clickhouse-server exited (${c.exitCode ?? c.signalCode}) before it answered; log:\n${tailOf(dir)}`);
      }
      try {
        const res = await fetch(`${url}/ping`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`clickhouse-server did not answer /ping on ${url} within 30 s; log:\n${tailOf(dir)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill(signal); // by its pid
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  return {
    url,
    port,
    dir,
    user,
    password,
    async query(sql: string): Promise<string> {
      const res = await fetch(`${url}/`, { method: 'POST', body: sql });
      const text = await res.text();
      if (!res.ok) throw new Error(`ClickHouse answered ${res.status} to ${sql}: ${text}`);
      return text;
    },
    async restart() {
      await kill('SIGKILL');
      await launch();
    },
    async stop() {
      await kill('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function tailOf(dir: string): string {
  const parts: string[] = [];
  for (const f of ['stdout.log', 'server.err.log']) {
    try {
      parts.push(fs.readFileSync(path.join(dir, f), 'utf8').split('\n').slice(-20).join('\n'));
    } catch {
      // not written
    }
  }
  return parts.join('\n') || '(no log)';
}
