// A real rsyslog (Debian's rsyslogd, with rsyslog-gnutls for TLS) started by the test itself as a child process:
// `rsyslogd -n -f CONF -i PIDFILE` with a temp config, imtcp on 127.0.0.1 on a free port (TLS with certificates
// made by `openssl` in the test), every received message written to a file with a template that keeps the raw
// message (`%rawmsg%`, the SYSLOG-MSG as framed) and one that shows rsyslog's own parse of it. Stopped by its pid.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './agent-process.js';

export const RSYSLOGD = '/usr/sbin/rsyslogd';

export function rsyslogAvailable(tls = false): boolean {
  if (!fs.existsSync(RSYSLOGD)) return false;
  if (!tls) return true;
  const lib = spawnSync('sh', ['-c', 'ls /usr/lib/*/rsyslog/lmnsd_gtls.so /usr/lib/rsyslog/lmnsd_gtls.so 2>/dev/null']);
  return lib.stdout.toString().trim() !== '' && spawnSync('which', ['openssl']).status === 0;
}

export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
  /** A client certificate (CN=tailship-client) signed by the same CA, for x509/name receivers. */
  clientCert: string;
  clientKey: string;
}

/** A CA and a server certificate for `localhost` / 127.0.0.1 signed by it, made with openssl in `dir`. */
export function makeCertificates(dir: string): TlsFiles {
  const f = (n: string): string => path.join(dir, n);
  const run = (args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe' });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=tailship-test-ca']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('key.pem'), '-out', f('srv.csr'), '-subj', '/CN=localhost']);
  fs.writeFileSync(f('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run(['x509', '-req', '-in', f('srv.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('cert.pem'), '-days', '2', '-extfile', f('ext.cnf')]);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('client-key.pem'), '-out', f('client.csr'), '-subj', '/CN=tailship-client']);
  fs.writeFileSync(f('client-ext.cnf'), 'extendedKeyUsage=clientAuth\nsubjectAltName=DNS:tailship-client\n');
  run(['x509', '-req', '-in', f('client.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('client-cert.pem'), '-days', '2', '-extfile', f('client-ext.cnf')]);
  return { ca: f('ca.pem'), cert: f('cert.pem'), key: f('key.pem'), clientCert: f('client-cert.pem'), clientKey: f('client-key.pem') };
}

export interface RsyslogServer {
  port: number;
  dir: string;
  tls?: TlsFiles;
  /** Raw messages received so far (one per line of the output file: the SYSLOG-MSG without its octet count). */
  messages(): string[];
  /** rsyslog's own view of each message: `PRI|HOSTNAME|APP|PROCID|MSGID|SD|TIMESTAMP|MSG` fields. */
  parsed(): string[][];
  /** Waits until at least `n` messages are in the file. */
  waitFor(n: number, timeoutMs?: number): Promise<string[]>;
  stop(): Promise<void>;
}

const SEP = '\u001f'; // a field separator no message of ours contains

export async function startRsyslog(opts: { tls?: boolean; clientAuth?: boolean; maxMessageSize?: string; maxFrameSize?: number } = {}): Promise<RsyslogServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tailship-rsyslog-'));
  const port = await freePort();
  const tls = opts.tls ? makeCertificates(dir) : undefined;
  const raw = path.join(dir, 'raw.log');
  const parsedFile = path.join(dir, 'parsed.log');
  const global = [`workDirectory="${dir}"`, `maxMessageSize="${opts.maxMessageSize ?? '4m'}"`];
  if (tls) {
    global.push('DefaultNetstreamDriver="gtls"', `DefaultNetstreamDriverCAFile="${tls.ca}"`, `DefaultNetstreamDriverCertFile="${tls.cert}"`, `DefaultNetstreamDriverKeyFile="${tls.key}"`);
  }
  const conf = [
    `global(${global.join(' ')})`,
    // No control-character escaping: the file then holds the message bytes exactly as they came.
    'global(parser.escapeControlCharactersOnReceive="off")',
    // MaxFrameSize: imtcp's own cap on an octet-counted frame (default 200000 bytes, whatever maxMessageSize says);
    // a larger frame makes it fall back to LF framing and garble the rest of the connection.
    `module(load="imtcp" MaxFrameSize="${opts.maxFrameSize ?? 8_000_000}"${tls ? ` StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="${opts.clientAuth ? 'x509/name' : 'anon'}"` : ''}${opts.clientAuth ? ' PermittedPeer=["tailship-client"]' : ''})`,
    'template(name="raw" type="string" string="%rawmsg%\\n")',
    `template(name="parsed" type="string" string="%pri%${SEP}%hostname%${SEP}%app-name%${SEP}%procid%${SEP}%msgid%${SEP}%structured-data%${SEP}%timereported:::date-rfc3339%${SEP}%msg%\\n")`,
    `input(type="imtcp" port="${port}" address="127.0.0.1" ruleset="in")`,
    'ruleset(name="in") {',
    `  action(type="omfile" file="${raw}" template="raw")`,
    `  action(type="omfile" file="${parsedFile}" template="parsed")`,
    '}',
    '',
  ].join('\n');
  const confFile = path.join(dir, 'rsyslog.conf');
  fs.writeFileSync(confFile, conf);
  const out = fs.openSync(path.join(dir, 'stderr.log'), 'a');
  const child: ChildProcess = spawn(RSYSLOGD, ['-n', '-f', confFile, '-i', path.join(dir, 'rsyslogd.pid')], { cwd: dir, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const log = (): string => {
    try {
      return fs.readFileSync(path.join(dir, 'stderr.log'), 'utf8').slice(-3000) || '(no output)';
    } catch {
      return '(no output)';
    }
  };

  // Ready when it accepts a connection (a bare connect and close sends no message).
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`rsyslogd exited (${child.exitCode ?? child.signalCode}): ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`rsyslogd did not listen on 127.0.0.1:${port} within 20 s: ${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }

  const lines = (file: string): string[] => {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return [];
    }
    const all = text.split('\n');
    all.pop(); // the part after the last newline is not a complete line yet
    return all;
  };
  const server: RsyslogServer = {
    port,
    dir,
    ...(tls ? { tls } : {}),
    messages: () => lines(raw),
    parsed: () => lines(parsedFile).map((l) => l.split(SEP)),
    async waitFor(n, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const m = server.messages();
        if (m.length >= n) return m;
        if (Date.now() > end) throw new Error(`rsyslog received ${m.length} of ${n} messages within ${timeoutMs} ms; its log: ${log()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM'); // by its pid
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}
