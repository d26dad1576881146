// Static pod manifests (`--manifests DIR`): the env of each container, mapped through its mounts to host paths.
// This is what logtail-ds learns from the container runtime (research §1.4–1.5), read offline from the files
// kubelet starts the control plane from.

import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { yaml } from './lazy-yaml.js';
import { applyConvention, type EnvVar } from './env-convention.js';
import { isLogVarName } from './env-sources.js';
import type { ConfigProblem, InputSpec, Origin } from './types.js';
import { ErrorCodes } from '../errors.js';

export interface ManifestResult {
  inputs: InputSpec[];
  problems: ConfigProblem[];
  warnings: ConfigProblem[];
  /** Debug-level notes: documents skipped because they are not pods, and the like. */
  notes: string[];
}

interface VolumeMount {
  name?: unknown;
  mountPath?: unknown;
  subPath?: unknown;
  subPathExpr?: unknown;
}
interface Volume {
  name?: unknown;
  hostPath?: { path?: unknown };
  [other: string]: unknown;
}
interface Container {
  name?: unknown;
  env?: unknown;
  envFrom?: unknown;
  volumeMounts?: unknown;
}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

function asArray(x: unknown): unknown[] {
  return Array.isArray(x) ? x : [];
}
function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
/** A path without a trailing `/` (except `/` itself), `.`/`..` resolved, as the runtime cleans mount paths. */
function clean(p: string): string {
  const n = path.posix.normalize(p);
  return n.length > 1 ? n.replace(/\/+$/, '') : n;
}

/**
 * Container path → host path (without the host root): the volumeMount with the longest mountPath that is the path
 * or a parent of it on a segment boundary, its `subPath`, then that volume's `hostPath.path`.
 */
export function mapContainerPath(
  containerPath: string,
  mounts: unknown,
  volumes: unknown,
): { hostPath: string } | { message: string; fix: string } {
  const p = clean(containerPath);
  let best: { mount: VolumeMount; dest: string } | undefined;
  for (const m of asArray(mounts)) {
    if (!isObject(m) || typeof m.mountPath !== 'string' || m.mountPath === '') continue;
    const dest = clean(m.mountPath);
    const covers = p === dest || p.startsWith(dest === '/' ? '/' : dest + '/');
    if (covers && (!best || dest.length > best.dest.length)) best = { mount: m as VolumeMount, dest };
  }
  const addMount = `add a hostPath volume and a volumeMount whose mountPath covers ${path.posix.dirname(p)}`;
  if (!best) return { message: `no volumeMount of the container covers ${containerPath}, so the file is not on the host`, fix: addMount };
  const { mount, dest } = best;
  const name = String(mount.name ?? '');
  const vol = asArray(volumes).find((v): v is Volume => isObject(v) && v.name === name);
  if (!vol) return { message: `${containerPath} is under mountPath ${dest}, whose volume "${name}" is not defined in spec.volumes`, fix: `define volume "${name}" as a hostPath volume` };
  if (!isObject(vol.hostPath) || typeof vol.hostPath.path !== 'string' || vol.hostPath.path === '') {
    const kind = Object.keys(vol).find((k) => k !== 'name') ?? 'unknown';
    return {
      message: `${containerPath} is under mountPath ${dest}, whose volume "${name}" is a ${kind} volume, not a hostPath`,
      fix: `mount a hostPath volume at ${dest} (tailship reads host files only)`,
    };
  }
  if (mount.subPathExpr !== undefined) {
    return { message: `${containerPath} is under mountPath ${dest}, which uses subPathExpr; it cannot be expanded offline`, fix: 'use subPath, or set _dockerfile=false and give the host path' };
  }
  const sub = typeof mount.subPath === 'string' ? mount.subPath : '';
  if (sub.split('/').includes('..')) return { message: `the subPath "${sub}" of mountPath ${dest} holds ".."`, fix: 'use a subPath inside the volume' };
  const rest = p.slice(dest.length); // '' or '/…'
  const base = clean(vol.hostPath.path);
  const joined = path.posix.join(base, sub, rest || '/');
  return { hostPath: rest || sub ? clean(joined) : base };
}

/** `namespace/name` of a pod, for origins. */
function podName(doc: Record<string, unknown>): string {
  const md = isObject(doc.metadata) ? doc.metadata : {};
  const name = typeof md.name === 'string' ? md.name : '(unnamed)';
  return typeof md.namespace === 'string' ? `${md.namespace}/${name}` : name;
}

/** The convention applied to one container of one pod. */
export function resolvePod(
  pod: Record<string, unknown>,
  file: string,
  opts: { hostRoot: string; globalTags: Record<string, string> },
): ManifestResult {
  const out: ManifestResult = { inputs: [], problems: [], warnings: [], notes: [] };
  const spec = isObject(pod.spec) ? pod.spec : {};
  const pname = podName(pod);
  const containers = [...asArray(spec.initContainers), ...asArray(spec.containers)].filter(isObject) as Container[];
  if (containers.length === 0) out.notes.push(`${file}: pod ${pname} has no containers`);
  for (const c of containers) {
    const cname = typeof c.name === 'string' ? c.name : '(unnamed)';
    const origin: Origin = { kind: 'manifest', file, pod: pname, container: cname };
    if (c.envFrom !== undefined) out.notes.push(`${file}: pod ${pname} container ${cname}: envFrom is not read (not resolvable offline)`);
    const vars: EnvVar[] = [];
    for (const e of asArray(c.env)) {
      if (!isObject(e) || typeof e.name !== 'string' || !isLogVarName(e.name)) continue;
      if (e.valueFrom !== undefined) {
        const from = isObject(e.valueFrom) ? Object.keys(e.valueFrom).join(', ') : 'valueFrom';
        vars.push({ name: e.name, value: '', origin, unresolved: `it comes from valueFrom (${from}), which tailship cannot resolve offline` });
      } else if (e.value === undefined || e.value === null || typeof e.value === 'string') {
        vars.push({ name: e.name, value: typeof e.value === 'string' ? e.value : '', origin });
      } else {
        out.problems.push({
          code: ErrorCodes.CONFIG_ENV_VALUE,
          variable: e.name,
          origin,
          message: `env value ${JSON.stringify(e.value)} is a ${typeof e.value}, and Kubernetes accepts only strings`,
          fix: `quote it: value: '${String(e.value)}'`,
        });
      }
    }
    if (vars.length === 0) continue;
    const r = applyConvention(vars, {
      ...opts,
      mapPath: (p) => mapContainerPath(p, c.volumeMounts, spec.volumes),
    });
    out.inputs.push(...r.inputs);
    out.problems.push(...r.problems);
    out.warnings.push(...r.warnings);
  }
  return out;
}

/** 1-based line and column of a character offset. */
function lineCol(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, col: offset - before.lastIndexOf('\n') };
}

/** Split a text of one or more concatenated JSON values (`{…}{…}` or one per line) into their source ranges. */
function splitJsonValues(text: string): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = [];
  let depth = 0;
  let inStr = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inStr) {
      if (ch === '\\') i++;
      else if (ch === '"') inStr = false;
      continue;
    }
    if (ch === '"') inStr = true;
    if (depth === 0 && start < 0 && !/\s/.test(ch)) start = i;
    if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0 && start >= 0) {
        out.push({ start, end: i + 1 });
        start = -1;
      }
    }
  }
  if (start >= 0) out.push({ start, end: text.length });
  return out;
}

/** Parse one manifest file into its documents; an error names the file and the position. */
export function parseManifestText(text: string, file: string): { docs: unknown[]; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const docs: unknown[] = [];
  const bad = (line: number, message: string) =>
    problems.push({ code: ErrorCodes.CONFIG_MANIFEST, variable: '--manifests', origin: { kind: 'file', file, line }, message, fix: 'fix the syntax of the file, or move it out of the --manifests directory' });
  if (file.endsWith('.json') && /^\s*[{[]/.test(text)) {
    for (const { start, end } of splitJsonValues(text)) {
      try {
        docs.push(JSON.parse(text.slice(start, end)));
      } catch (e) {
        const msg = (e as Error).message;
        const pos = /position (\d+)/.exec(msg);
        let at = lineCol(text, start + (pos ? Number(pos[1]) : 0));
        if (!pos) {
          // Some JSON.parse messages carry no position; the YAML parser (a JSON superset) finds one.
          const y = yaml().parseAllDocuments(text.slice(start, end)).find?.((d) => d.errors.length > 0)?.errors[0]?.linePos?.[0];
          const base = lineCol(text, start);
          if (y) at = { line: base.line + y.line - 1, col: y.line === 1 ? base.col + y.col - 1 : y.col };
        }
        bad(at.line, `invalid JSON at line ${at.line}, column ${at.col}: ${msg.split('\n')[0]}`);
        return { docs: [], problems };
      }
    }
    return { docs, problems };
  }
  for (const d of yaml().parseAllDocuments(text, { prettyErrors: true })) {
    const e = d.errors[0];
    if (e) {
      const at = e.linePos?.[0];
      bad(at?.line ?? 0, `invalid YAML${at ? ` at line ${at.line}, column ${at.col}` : ''}: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
      return { docs: [], problems };
    }
    docs.push(d.toJS({ maxAliasCount: 100 }));
  }
  return { docs, problems };
}

/** Every `*.yaml|*.yml|*.json` in DIR (not recursive, dot-files ignored as kubelet does), in name order. */
export async function listManifestFiles(dir: string): Promise<{ files: string[]; problems: ConfigProblem[] }> {
  const origin: Origin = { kind: 'file', file: dir, line: 0 };
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a directory' : `cannot be read (${code ?? String(e)})`;
    return { files: [], problems: [{ code: ErrorCodes.CONFIG_MANIFEST, variable: '--manifests', origin, message: `the manifests directory ${why}`, fix: 'give --manifests / TAILSHIP_MANIFESTS a readable directory, e.g. /etc/kubernetes/manifests' }] };
  }
  const files: string[] = [];
  for (const n of names.sort()) {
    if (n.startsWith('.') || !EXTENSIONS.has(path.extname(n).toLowerCase())) continue;
    const f = path.join(dir, n);
    try {
      if ((await stat(f)).isFile()) files.push(f);
    } catch {
      files.push(f); // a dangling link: reading it reports the problem
    }
  }
  return { files, problems: [] };
}

/** Every Pod in every manifest of DIR, resolved. */
export async function loadManifests(dir: string, opts: { hostRoot: string; globalTags: Record<string, string> }): Promise<ManifestResult> {
  const out: ManifestResult = { inputs: [], problems: [], warnings: [], notes: [] };
  const listed = await listManifestFiles(dir);
  out.problems.push(...listed.problems);
  for (const file of listed.files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      out.problems.push({
        code: ErrorCodes.CONFIG_MANIFEST,
        variable: '--manifests',
        origin: { kind: 'file', file, line: 0 },
        message: `the manifest cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
        fix: 'make it readable by tailship (mount it read-only), or move it out of the directory',
      });
      continue;
    }
    const parsed = parseManifestText(text, file);
    out.problems.push(...parsed.problems);
    const queue = [...parsed.docs];
    while (queue.length > 0) {
      const doc = queue.shift();
      if (doc === null || doc === undefined) continue;
      if (!isObject(doc)) {
        out.notes.push(`${file}: skipped a document that is not an object`);
        continue;
      }
      if (typeof doc.kind === 'string' && doc.kind.endsWith('List') && Array.isArray(doc.items)) {
        queue.push(...doc.items);
        continue;
      }
      if (doc.kind !== 'Pod' || doc.apiVersion !== 'v1') {
        out.notes.push(`${file}: skipped ${String(doc.apiVersion ?? '?')}/${String(doc.kind ?? '?')}: only v1 Pods are read`);
        continue;
      }
      const r = resolvePod(doc, file, opts);
      out.inputs.push(...r.inputs);
      out.problems.push(...r.problems);
      out.warnings.push(...r.warnings);
      out.notes.push(...r.notes);
    }
  }
  return out;
}
