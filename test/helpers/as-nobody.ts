import { spawnSync } from 'node:child_process';
import { CLI } from './agent-process.js';

/**
 * Whether a test can run the agent as an unprivileged user (uid 65534, through util-linux's setpriv): it needs
 * root, setpriv, and a checkout that user can read. A clone under `mktemp -d` (mode 0700, as in the README's
 * CI command) is not readable by it, so those tests skip with this reason instead of failing on the path.
 */
export function asNobody(): { ok: true } | { ok: false; why: string } {
  if (process.getuid?.() !== 0) return { ok: false, why: 'needs root to drop to an unprivileged uid' };
  if (spawnSync('setpriv', ['--version']).status !== 0) return { ok: false, why: 'needs setpriv (util-linux)' };
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'test', '-r', CLI]);
  if (r.status !== 0) return { ok: false, why: `uid 65534 cannot read ${CLI} (a checkout under a 0700 directory such as mktemp -d)` };
  return { ok: true };
}
