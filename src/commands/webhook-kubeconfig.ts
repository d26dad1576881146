// `tailship webhook-kubeconfig`: the kubeconfig kube-apiserver reads with --audit-webhook-config-file (SPEC §8).
// Files are embedded as base64 `*-data` by default, so the one file is all the API server needs; `--paths` writes
// the file paths instead (as the API server sees them: its static pod must mount them).
import { readFileSync } from 'node:fs';
import { yaml } from '../config/lazy-yaml.js';

export interface KubeconfigArgs {
  server: string;
  ca?: string;
  clientCert?: string;
  clientKey?: string;
  paths: boolean;
}

const USAGE = 'usage: tailship webhook-kubeconfig --server https://HOST:PORT [--ca FILE] [--client-cert FILE --client-key FILE] [--paths]';

/** Parses the command's own flags; throws a message (exit 2) on a mistake. */
export function parseKubeconfigArgs(argv: string[]): KubeconfigArgs {
  const out: Partial<KubeconfigArgs> & { paths: boolean } = { paths: false };
  const names: Record<string, keyof KubeconfigArgs> = { '--server': 'server', '--ca': 'ca', '--client-cert': 'clientCert', '--client-key': 'clientKey' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--paths') {
      out.paths = true;
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    const key = names[name];
    if (!key) throw new Error(`unknown argument ${a}; ${USAGE}`);
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') throw new Error(`${name} needs a value; ${USAGE}`);
    (out as Record<string, unknown>)[key] = value;
  }
  if (!out.server) throw new Error(`--server is required; ${USAGE}`);
  let url: URL;
  try {
    url = new URL(out.server);
  } catch {
    throw new Error(`--server ${out.server} is not a URL; e.g. --server https://10.0.0.5:8443`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`--server must be an https:// URL (http:// only for a loopback listener)`);
  if ((out.clientCert === undefined) !== (out.clientKey === undefined)) throw new Error('--client-cert and --client-key go together: give both');
  return out as KubeconfigArgs;
}

export function renderKubeconfig(a: KubeconfigArgs): string {
  const file = (p: string, what: string): string => {
    try {
      return readFileSync(p).toString('base64');
    } catch (e) {
      throw new Error(`cannot read ${what} ${p}: ${(e as Error).message}`);
    }
  };
  const cluster: Record<string, string> = { server: a.server };
  if (a.ca) {
    if (a.paths) cluster['certificate-authority'] = a.ca;
    else cluster['certificate-authority-data'] = file(a.ca, '--ca');
  }
  const user: Record<string, string> = {};
  if (a.clientCert && a.clientKey) {
    if (a.paths) {
      user['client-certificate'] = a.clientCert;
      user['client-key'] = a.clientKey;
    } else {
      user['client-certificate-data'] = file(a.clientCert, '--client-cert');
      user['client-key-data'] = file(a.clientKey, '--client-key');
    }
  }
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'tailship', cluster }],
    users: [{ name: 'kube-apiserver', user }],
    contexts: [{ name: 'webhook', context: { cluster: 'tailship', user: 'kube-apiserver' } }],
    'current-context': 'webhook',
  };
  return `# kube-apiserver --audit-webhook-config-file=<this file> --audit-webhook-mode=batch (made by tailship webhook-kubeconfig)\n${yaml().stringify(doc, { lineWidth: 0 })}`;
}

/** The command: prints the kubeconfig on stdout; returns the exit code. */
export function webhookKubeconfigCommand(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  try {
    out.write(renderKubeconfig(parseKubeconfigArgs(argv)));
    return 0;
  } catch (e) {
    err.write(`tailship webhook-kubeconfig: ${(e as Error).message}\n`);
    return 2;
  }
}
