// docs/dashboards and docs/alerts: the Grafana dashboard has the structure Grafana's dashboard schema asks for and
// only queries metrics that exist; the alert rules pass `promtool check rules` (Debian package `prometheus`).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import YAML from 'yaml';
import { auditStageMetrics } from '../../../src/audit/metrics-registry.js';
import { createMetrics } from '../../../src/observe/metrics.js';
import { REPO_ROOT } from '../../helpers/agent-process.js';

const DASHBOARD = path.join(REPO_ROOT, 'docs/dashboards/tailship-audit.json');
const RULES = path.join(REPO_ROOT, 'docs/alerts/tailship-audit.rules.yaml');

/** Contracted by SPEC §6 and §7, registered by the policy and hardening issues' modules. */
const SPEC_ELSEWHERE = ['tailship_files_lost_total', 'tailship_input_up', 'tailship_input_stale_seconds', 'tailship_events_dropped_total'];
/** The loss and liveness metrics the rules and the dashboard must use (issue 12). */
const MUST_USE = ['tailship_files_lost_total', 'tailship_bytes_lost_total', 'tailship_input_up', 'tailship_input_stale_seconds', 'tailship_batches_failed_total', 'tailship_batches_dead_lettered_total', 'tailship_checkpoint_age_seconds'];

async function knownMetrics(): Promise<Set<string>> {
  const m = createMetrics();
  auditStageMetrics(m.registry);
  const names = (await m.registry.getMetricsAsJSON()).map((x) => x.name);
  return new Set([...names, ...SPEC_ELSEWHERE]);
}

/** Metric names an expression uses (histogram series reduced to the histogram's name). */
function metricsIn(expr: string): string[] {
  return [...new Set([...expr.matchAll(/\btailship_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')))];
}

interface Panel {
  type?: string;
  id?: number;
  title?: string;
  gridPos?: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Array<{ expr?: string; refId?: string; datasource?: { uid: string } }>;
}

describe('Grafana dashboard', () => {
  const dash = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as {
    schemaVersion: number;
    title: string;
    uid: string;
    panels: Panel[];
    templating: { list: Array<{ name: string; type: string; query: unknown }> };
    time: { from: string; to: string };
  };

  test('dashboard fields: schemaVersion, title, uid, time, a Prometheus data source variable', () => {
    expect(dash.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dash.title).toBeTruthy();
    expect(dash.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(dash.time).toEqual({ from: expect.any(String), to: expect.any(String) });
    const ds = dash.templating.list.find((v) => v.type === 'datasource');
    expect(ds).toMatchObject({ name: 'datasource', query: 'prometheus' });
  });

  test('every panel has a type, a gridPos inside 24 columns without overlap, and targets with expressions on existing metrics', async () => {
    const known = await knownMetrics();
    const ids = new Set<number>();
    const cells = new Set<string>();
    const used = new Set<string>();
    for (const p of dash.panels) {
      expect(typeof p.type, p.title).toBe('string');
      expect(typeof p.id).toBe('number');
      expect(ids.has(p.id!), `duplicate id ${p.id}`).toBe(false);
      ids.add(p.id!);
      const g = p.gridPos!;
      for (const k of ['h', 'w', 'x', 'y'] as const) expect(Number.isInteger(g[k]), `${p.title} gridPos.${k}`).toBe(true);
      expect(g.x + g.w, p.title).toBeLessThanOrEqual(24);
      for (let yy = g.y; yy < g.y + g.h; yy++) {
        for (let xx = g.x; xx < g.x + g.w; xx++) {
          expect(cells.has(`${xx},${yy}`), `${p.title} overlaps another panel at ${xx},${yy}`).toBe(false);
          cells.add(`${xx},${yy}`);
        }
      }
      if (p.type === 'row') continue;
      expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets!.length, p.title).toBeGreaterThan(0);
      const refIds = new Set<string>();
      for (const t of p.targets!) {
        expect(t.refId).toMatch(/^[A-Z]$/);
        expect(refIds.has(t.refId!)).toBe(false);
        refIds.add(t.refId!);
        expect(t.datasource?.uid).toBe('${datasource}');
        const names = metricsIn(t.expr ?? '');
        expect(names.length, `${p.title}: ${t.expr}`).toBeGreaterThan(0);
        for (const n of names) {
          expect(known.has(n), `${p.title}: ${n} is not a tailship metric`).toBe(true);
          used.add(n);
        }
      }
    }
    for (const n of [...MUST_USE, 'tailship_audit_events_total', 'tailship_audit_request_duration_seconds', 'tailship_audit_sensitive_events_total']) expect(used.has(n), n).toBe(true);
  });
});

describe('Prometheus alert rules', () => {
  const doc = YAML.parse(fs.readFileSync(RULES, 'utf8')) as { groups: Array<{ name: string; rules: Array<{ alert: string; expr: string }> }> };

  test('every rule queries existing metrics; the loss and liveness metrics all have a rule; the security examples exist', async () => {
    const known = await knownMetrics();
    const used = new Set<string>();
    const alerts = doc.groups.flatMap((g) => g.rules);
    for (const r of alerts) {
      for (const n of metricsIn(r.expr)) {
        expect(known.has(n), `${r.alert}: ${n}`).toBe(true);
        used.add(n);
      }
    }
    for (const n of MUST_USE) expect(used.has(n), n).toBe(true);
    const names = alerts.map((r) => r.alert);
    for (const a of ['KubernetesForbiddenSpike', 'KubernetesPodExec', 'KubernetesRbacChanged', 'KubernetesSecretReadByHuman']) expect(names).toContain(a);
  });

  const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  const hasPromtool = promtool.status === 0;
  if (!hasPromtool) console.warn('[docs.test] promtool not found: `promtool check rules` SKIPPED (install the Debian package prometheus)');
  test.skipIf(!hasPromtool)('promtool check rules passes', () => {
    const r = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });
});
