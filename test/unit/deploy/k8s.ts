// Shared by the deploy tests: load daemonset.yaml, validate its objects against the Kubernetes OpenAPI schema
// (kubernetes-models' compiled validators), and turn its container spec into a local process env.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Secret } from 'kubernetes-models/v1/Secret';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IVolume } from 'kubernetes-models/v1/Volume';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const daemonsetPath = `${repoRoot}daemonset.yaml`;

// Any object is fine for these; what matters is that the schema of its apiVersion/kind is known.
type K8sObject = { apiVersion: string; kind: string; metadata?: { name?: string; namespace?: string } } & Record<
  string,
  unknown
>;

interface ModelClass {
  new (data: any): { validate(): void };
  apiVersion: string;
  kind: string;
}

// Kinds that daemonset.yaml may contain. Anything else fails the test until a model is added here.
const models: ModelClass[] = [Namespace, ServiceAccount, Secret, DaemonSet] as unknown as ModelClass[];

export function modelFor(obj: K8sObject): ModelClass {
  const model = models.find((m) => m.apiVersion === obj.apiVersion && m.kind === obj.kind);
  if (!model) throw new Error(`no schema model for ${obj.apiVersion} ${obj.kind}: add it to test/unit/deploy/k8s.ts`);
  return model;
}

/** Every document of daemonset.yaml (or of `text`), parsed; YAML errors and warnings throw. */
export function loadDocuments(text = readFileSync(daemonsetPath, 'utf8')): K8sObject[] {
  return parseAllDocuments(text).map((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`document ${i}: ${doc.errors.map((e) => e.message).join('; ')}`);
    if (doc.warnings.length > 0) throw new Error(`document ${i}: ${doc.warnings.map((e) => e.message).join('; ')}`);
    return doc.toJS() as K8sObject;
  });
}

/**
 * The OpenAPI schema check, plus what `kubectl apply --validate=strict` adds: fields the schema does not know.
 * The Kubernetes schemas allow unknown properties, so a typo such as `readOnlyRootFileSystem` passes validate()
 * and is silently dropped by the API server. The compiled validator reads exactly the properties the schema
 * declares (and every key of a map-typed field), so any own key it never reads is unknown.
 */
export function validateStrict(obj: K8sObject): void {
  const Model = modelFor(obj);
  const model = new Model(obj);
  const { proxy, readKeys } = recordReads(model);
  model.validate.call(proxy); // throws with the schema path of the first problems
  const unknown = unreadKeys(model, readKeys, '');
  if (unknown.length > 0) {
    throw new Error(`${obj.kind} ${obj.metadata?.name}: unknown field(s) ${unknown.join(', ')}`);
  }
}

function recordReads(root: object): { proxy: object; readKeys: WeakMap<object, Set<string>> } {
  const readKeys = new WeakMap<object, Set<string>>();
  const wrap = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return value;
    const target = value as object;
    if (!readKeys.has(target)) readKeys.set(target, new Set());
    const keys = readKeys.get(target)!;
    return new Proxy(target, {
      get(t, key, receiver) {
        if (typeof key === 'string') keys.add(key);
        return wrap(Reflect.get(t, key, receiver));
      },
      has(t, key) {
        if (typeof key === 'string') keys.add(key);
        return Reflect.has(t, key);
      },
    });
  };
  return { proxy: wrap(root) as object, readKeys };
}

function unreadKeys(value: unknown, readKeys: WeakMap<object, Set<string>>, path: string): string[] {
  if (value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => unreadKeys(v, readKeys, `${path}/${i}`));
  const seen = readKeys.get(value);
  return Object.entries(value).flatMap(([k, v]) =>
    seen?.has(k) ? unreadKeys(v, readKeys, `${path}/${k}`) : [`${path}/${k}`],
  );
}

export interface Deployment {
  docs: K8sObject[];
  daemonSet: any; // kept loose: the tests assert the shape they rely on
  podSpec: any;
  container: IContainer;
  volumes: IVolume[];
}

export function loadDeployment(): Deployment {
  const docs = loadDocuments();
  const daemonSets = docs.filter((d) => d.kind === 'DaemonSet');
  if (daemonSets.length !== 1) throw new Error(`expected one DaemonSet, found ${daemonSets.length}`);
  const daemonSet = daemonSets[0] as any;
  const podSpec = daemonSet.spec.template.spec;
  const containers = podSpec.containers as IContainer[];
  const container = containers.find((c) => c.name === 'tailship');
  if (!container) throw new Error('no container named tailship');
  return { docs, daemonSet, podSpec, container, volumes: podSpec.volumes ?? [] };
}

/** The container's env as the kubelet would build it, with the downward API and Secrets supplied here. */
export function containerEnv(
  container: IContainer,
  supply: { nodeName: string; hostIP?: string; secrets?: Record<string, Record<string, string>> },
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) {
      env[e.name] = e.value;
    } else if (e.valueFrom?.fieldRef) {
      const field = e.valueFrom.fieldRef.fieldPath;
      if (field === 'spec.nodeName') env[e.name] = supply.nodeName;
      else if (field === 'status.hostIP') env[e.name] = supply.hostIP ?? '10.0.0.10';
      else throw new Error(`env ${e.name}: fieldRef ${field} not supplied by the test`);
    } else if (e.valueFrom?.secretKeyRef) {
      const ref = e.valueFrom.secretKeyRef;
      const value = supply.secrets?.[ref.name ?? '']?.[ref.key];
      if (value !== undefined) env[e.name] = value;
      else if (!ref.optional) throw new Error(`env ${e.name}: required Secret ${ref.name}/${ref.key} missing`);
    } else {
      throw new Error(`env ${e.name}: unsupported source ${JSON.stringify(e.valueFrom)}`);
    }
  }
  return env;
}

/** Replace each container mount path (as a whole path segment prefix) inside `text` with `root` + that path. */
export function rebase(text: string, mountPaths: string[], root: string): string {
  const sorted = [...mountPaths].sort((a, b) => b.length - a.length); // longest first, like mount resolution
  for (const mp of sorted) {
    const re = new RegExp(`(^|[^\\w/.-])${escapeRegExp(mp)}(?=$|/|[^\\w.-])`, 'g');
    if (re.test(text)) return text.replace(re, (_m, lead: string) => `${lead}${root}${mp}`);
  }
  return text;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
