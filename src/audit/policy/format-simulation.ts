// The outputs of `tailship policy simulate`: the readable table, the --json object of SPEC §6, the progress line.

import type { PolicyRule } from './types.js';
import type { Counts, Progress, RuleCounts, SimulationResult } from './simulate.js';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

function saved(c: Counts): string {
  return c.bytesIn === 0 ? '-' : `${((100 * (c.bytesIn - c.bytesOut)) / c.bytesIn).toFixed(1)}%`;
}

/** A short text of what a rule matches, e.g. `users=system:kube-proxy verbs=watch resources=core:endpoints,services`. */
export function describeRule(r: PolicyRule): string {
  const parts: string[] = [];
  const list = (k: string, xs: string[]) => {
    if (xs.length > 0) parts.push(`${k}=${xs.join(',')}`);
  };
  list('users', r.users);
  list('userGroups', r.userGroups);
  list('verbs', r.verbs);
  list('namespaces', r.namespaces.map((n) => (n === '' ? '""' : n)));
  if (r.resources.length > 0) {
    parts.push(
      `resources=${r.resources
        .map((g) => `${g.group === '' ? 'core' : g.group}${g.resources.length ? `:${g.resources.join(',')}` : ''}${g.resourceNames.length ? `[${g.resourceNames.join(',')}]` : ''}`)
        .join(' ')}`,
    );
  }
  list('nonResourceURLs', r.nonResourceURLs);
  list('omitStages', r.omitStages);
  if (r.omitManagedFields !== undefined) parts.push(`omitManagedFields=${r.omitManagedFields}`);
  return parts.length ? parts.join(' ') : '(every request)';
}

const MATCH_WIDTH = 70;

/** The table: one row per rule (and the unmatched events), then the total. */
export function formatTable(result: SimulationResult, rules: PolicyRule[], policyFile: string): string {
  const header = ['rule', 'level', 'events', 'kept', 'bytes in', 'bytes out', 'saved', 'matches'];
  const row = (label: string, level: string, c: Counts, what: string) => [label, level, String(c.events), String(c.kept), formatBytes(c.bytesIn), formatBytes(c.bytesOut), saved(c), what];
  const rows = result.rules.map((c: RuleCounts) => {
    if (c.rule === null) return row('-', 'None', c, '(no rule matched: not audited)');
    const r = rules[c.rule]!;
    const what = describeRule(r);
    return row(String(c.rule), r.level, c, what.length > MATCH_WIDTH ? `${what.slice(0, MATCH_WIDTH - 1)}…` : what);
  });
  const total = row('total', '', result.total, '');
  const all = [header, ...rows, total];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const right = new Set([2, 3, 4, 5, 6]);
  const line = (r: string[]) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const t = result.total;
  const out = [
    `policy ${policyFile}: ${rules.length} rules; ${result.files.length} log file(s), ${t.events} events`,
    '',
    line(header),
    ...rows.map(line),
    line(total),
    '',
    `kept ${t.kept} of ${t.events} events (${t.events - t.kept} dropped, ${result.droppedByStage} of them for an omitted stage); ` +
      `${formatBytes(t.bytesIn)} → ${formatBytes(t.bytesOut)}, ${saved(t)} less`,
  ];
  if (result.invalidLines > 0) out.push(`${result.invalidLines} line(s) were not one JSON event and were not evaluated (the agent ships such lines as they are)`);
  return `${out.join('\n')}\n`;
}

/** SPEC §6 `--json`. */
export function toJson(result: SimulationResult): object {
  const c = (x: Counts) => ({ events: x.events, kept: x.kept, bytesIn: x.bytesIn, bytesOut: x.bytesOut });
  return { rules: result.rules.map((r) => ({ rule: r.rule, ...c(r) })), total: c(result.total) };
}

export function formatProgress(p: Progress): string {
  const pct = p.size > 0 ? ` ${Math.min(100, Math.floor((100 * p.bytesRead) / p.size))}%` : '';
  return `policy simulate: ${p.file}${pct} (${formatBytes(p.bytesRead)} of ${formatBytes(p.size)} read), ${p.events} events`;
}
