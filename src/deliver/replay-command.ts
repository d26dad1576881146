import type { Command } from '../config/options.js';
import { TailshipError } from '../errors.js';
import { createLogger } from '../observe/log.js';
import { createMetrics } from '../observe/metrics.js';
import { createSink } from './create-sink.js';
import { replayDeadLetters, type ReplaySummary } from './replay.js';

/**
 * `tailship replay [--state-dir DIR] [--sink URI] [--dry-run] [--json]`: the dead-letter spool sent again to the
 * configured sink. Exit 0 when nothing is left in the spool (or, with --dry-run, every line is a record),
 * 1 when entries stay (refused again, store not taking writes, unreadable lines), 2 for a sink URI that cannot be used.
 */
export async function replayCommand(cmd: Command, env: NodeJS.ProcessEnv): Promise<number> {
  const { options } = cmd;
  const logger = createLogger(options.logLevel);
  let sink;
  try {
    sink = createSink(options.sink, { logger, metrics: createMetrics(), env, stateDir: options.stateDir });
  } catch (e) {
    if (!(e instanceof TailshipError)) throw e;
    process.stderr.write(`tailship: ${e.message}\n`);
    return 2;
  }
  let summary: ReplaySummary;
  try {
    summary = await replayDeadLetters({ stateDir: options.stateDir, sink, dryRun: cmd.dryRun === true });
  } finally {
    await sink.close();
  }
  process.stdout.write(cmd.json ? `${JSON.stringify(summary, null, 2)}\n` : formatReplay(summary, cmd.dryRun === true));
  if (cmd.dryRun) return summary.unreadable > 0 ? 1 : 0;
  return summary.kept > 0 ? 1 : 0;
}

/** The human summary: counts, then one line per entry that stays (or, dry run, per entry). */
export function formatReplay(s: ReplaySummary, dryRun: boolean): string {
  const lines: string[] = [];
  if (s.entries === 0) return `nothing to replay: no dead-letter entries in ${s.dir}\n`;
  if (dryRun) {
    lines.push(`dry run: ${s.entries} entries in ${s.files} spool file(s) under ${s.dir}; nothing was sent`);
    for (const r of s.report) lines.push(`  ${r.file}:${r.line} ${r.outcome} ${r.batch ?? ''} (${r.logs} logs)${r.code ? ` ${r.code}` : ''}${r.reason ? `: ${r.reason}` : ''}`);
    return `${lines.join('\n')}\n`;
  }
  lines.push(
    `replayed ${s.replayed} of ${s.entries} entries (${s.logsReplayed} logs acknowledged); ${s.kept} stay in ${s.dir}` +
      ` (${s.rejectedAgain} refused again, ${s.notSent} not sent, ${s.unreadable} unreadable)`,
  );
  if (s.stopped) lines.push(`stopped: the store takes no writes (${s.stopped.kind}, ${s.stopped.code}): ${s.stopped.reason}`);
  for (const r of s.report) {
    if (r.outcome === 'replayed') continue;
    lines.push(`  kept ${r.file}:${r.line} ${r.batch ?? ''} (${r.logs} logs): ${r.outcome}${r.code ? ` ${r.code}` : ''}${r.statusCode ? ` HTTP ${r.statusCode}` : ''}${r.reason ? `: ${r.reason}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
