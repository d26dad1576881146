import { stat } from 'node:fs/promises';
import path from 'node:path';
import { CHECKPOINT_FILE, loadCheckpoints, type StreamRecord } from './checkpoint/checkpoint-store.js';

export interface StreamStatus {
  input: string;
  path: string;
  file: string;
  identity: { dev: number; ino: number; fingerprint: string; fingerprintBytes: number };
  offset: number;
  size: number | null;
  lagBytes: number | null;
  state: StreamRecord['state'] | 'missing';
  lastCommit: string;
}

/** `tailship status`: per-stream progress from the checkpoint file and the files as they are now. */
export async function readStatus(stateDir: string): Promise<{ checkpointFile: string; warning?: string; streams: StreamStatus[] }> {
  const loaded = loadCheckpoints(stateDir);
  const streams: StreamStatus[] = [];
  for (const r of loaded.streams) {
    const st = await stat(r.file).catch(() => undefined);
    // A .gz holds compressed bytes: its on-disk size says nothing about the offset; use the last known size.
    const size = st && !r.file.endsWith('.gz') ? st.size : r.size;
    streams.push({
      input: r.input,
      path: r.lane,
      file: r.file,
      identity: { dev: r.dev, ino: r.ino, fingerprint: r.fp.hash, fingerprintBytes: r.fp.len },
      offset: r.offset,
      size: st ? size : null,
      lagBytes: st ? Math.max(0, size - r.offset) : null,
      state: st ? r.state : r.state === 'done' ? 'done' : 'missing',
      lastCommit: new Date(r.updatedAt).toISOString(),
    });
  }
  return { checkpointFile: path.join(stateDir, CHECKPOINT_FILE), warning: loaded.warning, streams };
}

export function formatStatus(s: Awaited<ReturnType<typeof readStatus>>): string {
  if (s.streams.length === 0) return `no checkpoints in ${s.checkpointFile}${s.warning ? ` (${s.warning})` : ''}\n`;
  const rows = s.streams.map((x) => [
    x.state,
    x.file,
    `${x.identity.dev}:${x.identity.ino}/${x.identity.fingerprint.slice(0, 8)}`,
    String(x.offset),
    x.size === null ? '-' : String(x.size),
    x.lagBytes === null ? '-' : String(x.lagBytes),
    x.lastCommit,
  ]);
  const head = ['STATE', 'FILE', 'IDENTITY', 'OFFSET', 'SIZE', 'LAG', 'LAST COMMIT'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}
