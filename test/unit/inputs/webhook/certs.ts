// Test certificates made with openssl: a CA, a server certificate for 127.0.0.1/localhost, a client certificate
// (the API server's), and a client certificate from another CA (must be refused).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface TestCerts {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  otherCert: string;
  otherKey: string;
}

function ossl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): void {
  ossl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`], dir);
}

/** Signs a leaf certificate `name` with CA `ca`; `san` like `IP:127.0.0.1,DNS:localhost`. */
export function makeLeaf(dir: string, name: string, ca: string, cn: string, san?: string, usage = 'serverAuth'): void {
  ossl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
  const ext = `${name}.ext`;
  fs.writeFileSync(path.join(dir, ext), `extendedKeyUsage=${usage}\n${san ? `subjectAltName=${san}\n` : ''}`);
  ossl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', ext], dir);
}

export function makeCerts(dir: string): TestCerts {
  fs.mkdirSync(dir, { recursive: true });
  makeCa(dir, 'ca');
  makeCa(dir, 'other-ca');
  makeLeaf(dir, 'server', 'ca', 'tailship-webhook', 'IP:127.0.0.1,DNS:localhost');
  makeLeaf(dir, 'client', 'ca', 'kube-apiserver', undefined, 'clientAuth');
  makeLeaf(dir, 'other', 'other-ca', 'intruder', undefined, 'clientAuth');
  const p = (f: string) => path.join(dir, f);
  return {
    dir,
    ca: p('ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    otherCert: p('other.crt'),
    otherKey: p('other.key'),
  };
}
