// SPEC §11: one agent per state dir. `{state-dir}/tailship.lock` is created with O_EXCL and names its holder;
// a lock whose holder is dead (SIGKILL, OOM, a crashed container) is taken over, never obeyed.

import { closeSync, linkSync, mkdirSync, openSync, readFileSync, readlinkSync, statSync, unlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { ErrorCodes, TailshipError } from '../errors.js';

export const LOCK_FILE = 'tailship.lock';
/** The holder touches its lock this often; seen from another pid namespace, a fresher lock is live. */
const HEARTBEAT_MS = 10_000;
const HEARTBEAT_STALE_MS = 3 * HEARTBEAT_MS;
/** A takeover marker older than this was left by a process that died mid-takeover. */
const TAKEOVER_STALE_MS = 10_000;

export interface LockHolder {
  pid: number;
  /** ISO time the holder started. */
  startedAt: string;
  hostname: string;
  /** The holder's pid namespace (`/proc/self/ns/pid`): its pid means something only in the same one. */
  pidNs?: string;
  /** Field 22 of `/proc/PID/stat` (start time in clock ticks since boot): tells a reused pid from the holder. */
  procStart?: string;
  /** Unique per lock, so that a holder recognises its own lock. */
  token: string;
}

export interface StateLock {
  readonly file: string;
  readonly holder: LockHolder;
  /** Remove the lock if it is still ours. Idempotent, synchronous (safe in an `exit` handler). */
  release(): void;
}

function readProcStat(pid: number | 'self'): { state: string; start: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: f[0]!, start: f[19]! };
  } catch {
    return undefined;
  }
}

function readProcStart(pid: number | 'self'): string | undefined {
  return readProcStat(pid)?.start;
}

function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Is the process that wrote this lock still running? `mtimeMs` is the lock file's last heartbeat. */
export function holderAlive(h: LockHolder, mtimeMs: number, now = Date.now()): boolean {
  const ns = pidNamespace();
  if (h.hostname === hostname() && h.pidNs !== undefined && h.pidNs === ns) {
    if (h.pid === process.pid && h.procStart === readProcStart('self')) return true;
    if (h.pid === process.pid) return false; // our own pid, reused (a restarted container is pid 1 again)
    if (!processAlive(h.pid)) return false;
    const st = readProcStat(h.pid);
    if (st && (st.state === 'Z' || st.state === 'X')) return false; // killed, not yet reaped by its parent
    return st === undefined || h.procStart === undefined || st.start === h.procStart;
  }
  // Another pid namespace or host (another container on a shared hostPath): only the heartbeat tells.
  return now - mtimeMs < HEARTBEAT_STALE_MS;
}

function describeHolder(h: LockHolder): string {
  return `pid ${h.pid} on ${h.hostname}, started ${h.startedAt}`;
}

function readHolder(file: string): { holder?: LockHolder; mtimeMs: number } | undefined {
  let text: string;
  let mtimeMs: number;
  try {
    mtimeMs = statSync(file).mtimeMs;
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    return typeof h.pid === 'number' ? { holder: h, mtimeMs } : { mtimeMs };
  } catch {
    return { mtimeMs }; // torn or foreign content: treated like a dead holder once its heartbeat is old
  }
}

export function unwritableError(stateDir: string, e: NodeJS.ErrnoException): TailshipError {
  const why = e.code === 'ENOTDIR' ? 'a part of the path is a file, not a directory' : e.code === 'EROFS' ? 'it is on a read-only file system' : e.code === 'ENOSPC' ? 'the disk is full' : e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : (e.code ?? e.message);
  return new TailshipError(
    ErrorCodes.STATE_UNWRITABLE,
    `the state dir ${stateDir} cannot be written (${why}): checkpoints could not be saved, so every restart would ship everything again`,
    'give --state-dir (TAILSHIP_STATE_DIR) a directory this user can create and write (in Kubernetes, a writable hostPath such as /var/lib/tailship)',
  );
}

/**
 * Take the state dir's lock, creating the dir. Throws TailshipError STATE_LOCKED naming the running agent, or
 * STATE_UNWRITABLE when the dir cannot be created or written.
 */
export function acquireStateLock(stateDir: string, opts: { heartbeat?: boolean } = {}): StateLock {
  const file = path.join(stateDir, LOCK_FILE);
  try {
    mkdirSync(stateDir, { recursive: true });
  } catch (e) {
    throw unwritableError(stateDir, e as NodeJS.ErrnoException);
  }
  const holder: LockHolder = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    hostname: hostname(),
    pidNs: pidNamespace(),
    procStart: readProcStart('self'),
    token: `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
  };
  // Write the whole record first, then link it into place: the lock never exists half-written.
  const tmp = `${file}.${holder.token}.tmp`;
  try {
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      writeSync(fd, `${JSON.stringify(holder)}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw unwritableError(stateDir, e as NodeJS.ErrnoException);
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, file);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw unwritableError(stateDir, e as NodeJS.ErrnoException);
      }
      const seen = readHolder(file);
      if (seen === undefined) continue; // released meanwhile: try again
      if (seen.holder && holderAlive(seen.holder, seen.mtimeMs)) {
        throw new TailshipError(
          ErrorCodes.STATE_LOCKED,
          `another tailship is running on the state dir ${stateDir} (${describeHolder(seen.holder)}; lock ${file}): two agents on one state dir would ship every line twice`,
          'stop that agent first, or give this one its own --state-dir',
        );
      }
      if (attempt >= 5) throw new TailshipError(ErrorCodes.STATE_LOCKED, `cannot take over the stale lock ${file}: another process keeps changing it`, 'retry; if it persists, remove the lock file while no tailship runs');
      takeOver(file, seen.holder?.token);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20 * attempt); // let a concurrent taker finish
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
  }
  let released = false;
  const timer = opts.heartbeat === false ? undefined : setInterval(() => touch(file, holder.token), HEARTBEAT_MS);
  timer?.unref();
  return {
    file,
    holder,
    release() {
      if (released) return;
      released = true;
      if (timer) clearInterval(timer);
      if (readHolder(file)?.holder?.token === holder.token) {
        try {
          unlinkSync(file);
        } catch {
          /* gone already */
        }
      }
    },
  };
}

/** Remove a dead holder's lock, one taker at a time (a marker made with O_EXCL), and only if it is unchanged. */
function takeOver(file: string, staleToken: string | undefined): void {
  const marker = `${file}.takeover`;
  try {
    closeSync(openSync(marker, 'wx'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    try {
      if (Date.now() - statSync(marker).mtimeMs > TAKEOVER_STALE_MS) unlinkSync(marker);
    } catch {
      /* the other taker finished */
    }
    return; // someone else is taking over: look again
  }
  try {
    const now = readHolder(file);
    if (now !== undefined && now.holder?.token === staleToken) unlinkSync(file);
  } finally {
    unlinkSync(marker);
  }
}

function touch(file: string, token: string): void {
  try {
    if (readHolder(file)?.holder?.token !== token) return;
    const now = new Date();
    utimesSync(file, now, now);
  } catch {
    /* the state dir became unwritable: the checkpoint writer reports it */
  }
}

/** Prove the state dir takes a write (create, write, remove) before anything is shipped. */
export function checkStateDirWritable(stateDir: string): void {
  const probe = path.join(stateDir, `.write-probe-${process.pid}`);
  try {
    writeFileSync(probe, 'tailship\n', { flag: 'w' });
    unlinkSync(probe);
  } catch (e) {
    throw unwritableError(stateDir, e as NodeJS.ErrnoException);
  }
}
