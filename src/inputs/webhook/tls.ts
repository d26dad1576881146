// The receiver's certificates, re-read when the mounted files change (a Secret update, cert-manager renewal): a
// new pair that does not load keeps the old one serving, and says why once.
import { readFileSync, statSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { Logger } from '../../observe/log.js';

export interface TlsFiles {
  cert: string;
  key: string;
  clientCa?: string;
}

export const TLS_OPTIONS = { minVersion: 'TLSv1.2' } as const;

/** Reads and checks the files (the key must match the certificate); throws with what is wrong. */
export function loadTls(f: TlsFiles): SecureContextOptions {
  const read = (p: string, what: string): Buffer => {
    try {
      return readFileSync(p);
    } catch (e) {
      throw new Error(`cannot read the ${what} ${p}: ${(e as Error).message}`);
    }
  };
  const opts: SecureContextOptions = { cert: read(f.cert, '--webhook-tls-cert'), key: read(f.key, '--webhook-tls-key'), ...TLS_OPTIONS };
  if (f.clientCa) opts.ca = read(f.clientCa, '--webhook-client-ca');
  try {
    createSecureContext(opts);
  } catch (e) {
    throw new Error(`the webhook certificate, key or client CA does not load: ${(e as Error).message}`);
  }
  return opts;
}

function signature(f: TlsFiles): string {
  return [f.cert, f.key, f.clientCa]
    .filter((p): p is string => p !== undefined)
    .map((p) => {
      try {
        const s = statSync(p);
        return `${s.ino}:${s.size}:${s.mtimeMs}`;
      } catch {
        return 'missing';
      }
    })
    .join('|');
}

/** Polls the files (they are often symlinks swapped by the kubelet, which file events miss); calls `apply` on a good change. */
export function watchTls(f: TlsFiles, apply: (o: SecureContextOptions) => void, logger: Logger, intervalMs = 1000): () => void {
  let loaded = signature(f);
  let failed = '';
  const timer = setInterval(() => {
    const now = signature(f);
    if (now === loaded) return;
    try {
      apply(loadTls(f));
      loaded = now;
      failed = '';
      logger.info({ cert: f.cert }, 'webhook certificates changed on disk: reloaded');
    } catch (e) {
      if (failed !== now) logger.error({ cert: f.cert, err: (e as Error).message }, 'webhook certificates changed but do not load: still serving the previous ones');
      failed = now;
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
