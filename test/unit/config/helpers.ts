// Shared helpers for the config tests: temp dirs, a Pod manifest builder, origin normalisation.

import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { formatOrigin } from '../../../src/config/env-convention.js';
import { DEFAULT_OPTIONS } from '../../../src/config/options.js';
import type { AgentOptions, ConfigProblem, InputSpec } from '../../../src/config/types.js';

export function tempDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'tailship-config-'));
}

export async function writeFiles(dir: string, files: Record<string, string>): Promise<string[]> {
  const out: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    const f = path.join(dir, name);
    await mkdir(path.dirname(f), { recursive: true });
    await writeFile(f, text);
    out.push(f);
  }
  return out;
}

export function options(over: Partial<AgentOptions> = {}): AgentOptions {
  return { ...DEFAULT_OPTIONS, envFiles: [], ...over };
}

export interface PodSpec {
  env: Array<{ name: string; value?: unknown; valueFrom?: unknown }>;
  mounts?: Array<{ name: string; mountPath: string; subPath?: string; subPathExpr?: string }>;
  volumes?: Array<{ name: string; hostPath?: string; emptyDir?: object; configMap?: object }>;
  container?: string;
  init?: boolean;
  kind?: string;
}

/** A v1 Pod `ns/p` with one container (`app` unless named) carrying the given env and mounts. */
export function podObject(p: PodSpec): Record<string, unknown> {
  const container = { name: p.container ?? 'app', image: 'busybox', env: p.env, ...(p.mounts ? { volumeMounts: p.mounts } : {}) };
  const volumes = (p.volumes ?? []).map((v) =>
    v.hostPath !== undefined ? { name: v.name, hostPath: { path: v.hostPath, type: 'DirectoryOrCreate' } } : v,
  );
  return {
    apiVersion: 'v1',
    kind: p.kind ?? 'Pod',
    metadata: { name: 'p', namespace: 'ns' },
    spec: {
      ...(p.init ? { initContainers: [container], containers: [{ name: 'main', image: 'busybox' }] } : { containers: [container] }),
      volumes,
    },
  };
}

export function pod(p: PodSpec): string {
  return stringify(podObject(p));
}

/** Origins as text with the temp dir removed, so that expectations read `case.env:3`. */
export function rel(dir: string, s: string): string {
  return s.split(dir + '/').join('');
}

export function normInput(dir: string, i: InputSpec): Omit<InputSpec, 'origin'> & { origin: string } {
  return { ...i, origin: rel(dir, formatOrigin(i.origin)) };
}

export function normProblem(dir: string, p: ConfigProblem): { variable: string; origin: string; code: string } {
  return { variable: p.variable, origin: rel(dir, formatOrigin(p.origin)), code: p.code };
}

/** An expected input: logtail's defaults, host path = path unless given. */
export function inp(key: string, p: string, origin: string, over: Partial<InputSpec> = {}): Omit<InputSpec, 'origin'> & { origin: string } {
  return {
    key,
    origin,
    path: p,
    hostPath: p,
    stdout: false,
    tags: {},
    json: false,
    logstore: key,
    shard: 2,
    ttl: 90,
    logstoreMode: 'standard',
    extra: {},
    ...over,
  } as Omit<InputSpec, 'origin'> & { origin: string };
}
