// Seeded, deterministic generator of a realistic kube-apiserver audit log (audit.k8s.io/v1, one compact JSON
// event per line, fields in the Go struct order the log backend writes them), shaped like the real events in
// shared/data/audit-logs: levels Metadata / Request / RequestResponse, stages RequestReceived /
// ResponseStarted / ResponseComplete of interleaved requests, kubelet / controller / service-account / human
// users, and lines from ~400 B (health probes) to ~2 MB (a big LIST at RequestResponse), mean ~1.5 KB.
//
//   node bench/generate.mjs --size 200M [--seed 1]     prints the path of the (cached) file
//
// Same seed, size and GEN_VERSION ⇒ byte-identical file, cached in bench/.cache/.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const GEN_VERSION = 4;
export const CACHE_DIR = fileURLToPath(new URL('./.cache/', import.meta.url));

/** `1G`, `200M`, `512K`, `12345` → bytes (binary units, as tailship's own flags). */
export function parseSize(text) {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)i?B?$/i.exec(String(text).trim());
  if (!m) throw new Error(`--size ${text}: give a size like 1G, 200M or 50M`);
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2].toUpperCase()];
  return Math.round(Number(m[1]) * unit);
}

/** mulberry32: small, fast, seeded. */
export function createRng(seed) {
  let a = seed >>> 0 || 0x9e3779b9;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const u32 = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    next,
    u32,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)],
  };
}

const hex8 = (n) => n.toString(16).padStart(8, '0');

function uuid(rng) {
  const a = hex8(rng.u32());
  const b = hex8(rng.u32());
  const c = hex8(rng.u32());
  const d = hex8(rng.u32());
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${'89ab'[c.charCodeAt(0) & 3]}${c.slice(1, 4)}-${c.slice(4)}${d}`;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function randomText(rng, n) {
  let s = '';
  for (let i = 0; i < n; i++) s += B64[rng.u32() & 63];
  return s;
}

// ---- the cluster: who calls what ---------------------------------------------------------------------------

const NODES = Array.from({ length: 24 }, (_, i) => `ip-10-0-${(i * 7) % 250}-${(i * 37) % 250}.ec2.internal`);
const NAMESPACES = ['default', 'kube-system', 'kube-public', 'monitoring', 'ingress-nginx', 'payments', 'checkout', 'search', 'cert-manager', 'argocd', 'logging', 'istio-system'];
const K8S_VERSION = 'v1.30.4';
const GIT = 'kubernetes/a51b3b7';

const users = [
  // kubelets: the bulk of the traffic (leases, node status, pod status, configmap/secret reads)
  ...NODES.map((n) => ({ w: 3, user: { username: `system:node:${n}`, groups: ['system:nodes', 'system:authenticated'] }, ua: `kubelet/${K8S_VERSION} (linux/amd64) ${GIT}`, ip: `10.0.${NODES.indexOf(n) * 7 % 250}.${10 + NODES.indexOf(n)}`, kind: 'node', node: n })),
  { w: 10, user: { username: 'system:kube-controller-manager', groups: ['system:authenticated'] }, ua: `kube-controller-manager/${K8S_VERSION} (linux/amd64) ${GIT}/leader-election`, ip: '10.0.0.10', kind: 'cm' },
  { w: 8, user: { username: 'system:kube-scheduler', groups: ['system:authenticated'] }, ua: `kube-scheduler/${K8S_VERSION} (linux/amd64) ${GIT}/scheduler`, ip: '10.0.0.10', kind: 'sched' },
  { w: 6, user: { username: 'system:apiserver', uid: 'd3b8c9f0-5c5e-4c57-9a53-1f0d7a7a5b11', groups: ['system:authenticated', 'system:masters'] }, ua: `kube-apiserver/${K8S_VERSION} (linux/amd64) ${GIT}`, ip: '::1', kind: 'apiserver' },
  { w: 5, user: { username: 'system:serviceaccount:kube-system:coredns', uid: '7f9c2ba4-e88f-4c6b-9c8a-0d1e2f3a4b5c', groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'], extra: { 'authentication.kubernetes.io/pod-name': ['coredns-7db6d8ff4d-8xk2p'], 'authentication.kubernetes.io/pod-uid': ['5f0c1c6e-2f8b-4e0a-b7a4-6c2d9e1f3a70'] } }, ua: 'coredns/v0.0.0 (linux/amd64) kubernetes/$Format', ip: '10.244.1.3', kind: 'sa' },
  { w: 4, user: { username: 'system:serviceaccount:argocd:argocd-application-controller', uid: '1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d', groups: ['system:serviceaccounts', 'system:serviceaccounts:argocd', 'system:authenticated'], extra: { 'authentication.kubernetes.io/pod-name': ['argocd-application-controller-0'], 'authentication.kubernetes.io/pod-uid': ['0d9e8f7a-6b5c-4d3e-8f1a-2b3c4d5e6f70'] } }, ua: 'argocd-application-controller/v2.11.3 (linux/amd64) argoproj/argo-cd', ip: '10.244.3.17', kind: 'sa' },
  { w: 3, user: { username: 'system:serviceaccount:monitoring:prometheus-k8s', uid: '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b', groups: ['system:serviceaccounts', 'system:serviceaccounts:monitoring', 'system:authenticated'] }, ua: 'Prometheus/2.53.1', ip: '10.244.2.9', kind: 'sa' },
  { w: 2, user: { username: 'system:anonymous', groups: ['system:unauthenticated'] }, ua: 'kube-probe/1.30', ip: '10.0.0.1', kind: 'probe' },
  { w: 1, user: { username: 'alice@example.com', groups: ['platform-admins', 'system:authenticated'], extra: { 'authentication.kubernetes.io/credential-id': ['X509SHA256=8a4d0c2f9b1e7a6d5c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d'] } }, ua: `kubectl/${K8S_VERSION} (linux/amd64) ${GIT}`, ip: '203.0.113.24', kind: 'human' },
  { w: 1, user: { username: 'system:serviceaccount:kube-system:generic-garbage-collector', uid: 'aa11bb22-cc33-4d44-8e55-ff6677889900', groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] }, ua: `kube-controller-manager/${K8S_VERSION} (linux/amd64) ${GIT}/system:serviceaccount:kube-system:generic-garbage-collector`, ip: '10.0.0.10', kind: 'cm' },
];
const userWeights = users.reduce((s, u) => s + u.w, 0);

const RESOURCES = [
  { resource: 'leases', group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', ns: true },
  { resource: 'pods', group: '', version: 'v1', kind: 'Pod', ns: true },
  { resource: 'configmaps', group: '', version: 'v1', kind: 'ConfigMap', ns: true },
  { resource: 'secrets', group: '', version: 'v1', kind: 'Secret', ns: true },
  { resource: 'endpointslices', group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', ns: true },
  { resource: 'events', group: '', version: 'v1', kind: 'Event', ns: true },
  { resource: 'nodes', group: '', version: 'v1', kind: 'Node', ns: false },
  { resource: 'deployments', group: 'apps', version: 'v1', kind: 'Deployment', ns: true },
  { resource: 'replicasets', group: 'apps', version: 'v1', kind: 'ReplicaSet', ns: true },
  { resource: 'serviceaccounts', group: '', version: 'v1', kind: 'ServiceAccount', ns: true },
  { resource: 'services', group: '', version: 'v1', kind: 'Service', ns: true },
  { resource: 'clusterroles', group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', ns: false },
  { resource: 'tokenreviews', group: 'authentication.k8s.io', version: 'v1', kind: 'TokenReview', ns: false },
  { resource: 'subjectaccessreviews', group: 'authorization.k8s.io', version: 'v1', kind: 'SubjectAccessReview', ns: false },
];
const byName = Object.fromEntries(RESOURCES.map((r) => [r.resource, r]));

// What each kind of caller does, weighted: [weight, verb, resource, subresource?]
const ACTIONS = {
  node: [[30, 'update', 'leases'], [12, 'get', 'leases'], [10, 'patch', 'nodes', 'status'], [12, 'get', 'configmaps'], [8, 'get', 'secrets'], [8, 'patch', 'pods', 'status'], [6, 'get', 'pods'], [4, 'create', 'events'], [4, 'watch', 'pods'], [3, 'list', 'services'], [2, 'create', 'serviceaccounts', 'token']],
  cm: [[25, 'update', 'leases'], [15, 'get', 'leases'], [10, 'update', 'endpointslices'], [8, 'update', 'replicasets', 'status'], [6, 'patch', 'pods'], [5, 'list', 'pods'], [5, 'watch', 'deployments'], [5, 'create', 'events'], [4, 'delete', 'pods'], [3, 'update', 'deployments', 'status'], [2, 'create', 'pods']],
  sched: [[30, 'update', 'leases'], [20, 'get', 'leases'], [20, 'create', 'pods', 'binding'], [10, 'patch', 'pods', 'status'], [5, 'watch', 'nodes'], [5, 'create', 'events']],
  apiserver: [[30, 'update', 'leases'], [20, 'get', 'leases'], [15, 'get', 'services'], [10, 'get', 'configmaps'], [10, 'list', 'clusterroles'], [5, 'create', 'tokenreviews'], [5, 'create', 'subjectaccessreviews']],
  sa: [[20, 'get', 'configmaps'], [20, 'list', 'endpointslices'], [20, 'watch', 'endpointslices'], [10, 'list', 'pods'], [10, 'get', 'secrets'], [10, 'update', 'leases'], [5, 'list', 'nodes'], [5, 'patch', 'deployments']],
  probe: [[1, 'get', '/livez'], [1, 'get', '/readyz'], [1, 'get', '/healthz']],
  human: [[20, 'get', 'pods'], [15, 'list', 'pods'], [10, 'get', 'deployments'], [10, 'patch', 'deployments'], [10, 'get', 'secrets'], [8, 'create', 'pods', 'exec'], [8, 'list', 'nodes'], [5, 'delete', 'pods'], [5, 'update', 'configmaps'], [5, 'list', 'events']],
};
const actionWeights = Object.fromEntries(Object.entries(ACTIONS).map(([k, v]) => [k, v.reduce((s, a) => s + a[0], 0)]));

function weighted(rng, items, total) {
  let r = rng.next() * total;
  for (const it of items) {
    r -= it[0] ?? it.w;
    if (r < 0) return it;
  }
  return items[items.length - 1];
}

// ---- time ---------------------------------------------------------------------------------------------------

/** metav1.MicroTime as the API server prints it: RFC 3339, 6 fractional digits, UTC. */
function microTime(us) {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 23)}${String(us % 1000).padStart(3, '0')}Z`;
}

// ---- bodies -------------------------------------------------------------------------------------------------

function meta(rng, name, ns, extraLabels) {
  const m = { name, uid: uuid(rng), resourceVersion: String(rng.int(1_000_000, 99_999_999)), creationTimestamp: '2026-11-02T08:14:55Z' };
  if (ns) m.namespace = ns;
  const labels = { 'app.kubernetes.io/name': name.split('-')[0], 'app.kubernetes.io/part-of': 'shop' };
  for (let i = 0; i < extraLabels; i++) labels[`example.com/label-${i}`] = randomText(rng, 12);
  m.labels = labels;
  return m;
}

/** A request/response object of about `target` bytes for the resource (padding lives in realistic fields). */
const SYL = ['ka', 'lo', 'mi', 'ne', 'pu', 'ra', 'si', 'to', 'vu', 'ze', 'an', 'el', 'in', 'or', 'ux', 'bri', 'cor', 'dex', 'fal', 'gen', 'hub', 'jet', 'kin', 'lum', 'mod', 'net', 'ops', 'pod', 'que', 'run', 'svc', 'tls'];
function word(rng) {
  const n = 2 + (rng.u32() & 1);
  let w = '';
  for (let i = 0; i < n; i++) w += SYL[rng.u32() & 31];
  return w;
}
/** `{"a.example.com/b": "c-1f3a", ...}` of about `bytes`. */
function labelMap(rng, bytes) {
  const m = {};
  let n = 2;
  while (n < bytes) {
    const k = `${word(rng)}.example.com/${word(rng)}-${word(rng)}`;
    const v = rng.next() < 0.3 ? hex8(rng.u32()) + hex8(rng.u32()) : `${word(rng)}-${word(rng)}-${rng.int(0, 999)}`;
    m[k] = v;
    n += k.length + v.length + 6;
  }
  return m;
}
/** managedFields' fieldsV1: nested `"f:name":{}` sets of about `bytes`. */
function fieldsV1(rng, bytes) {
  const root = {};
  let n = 2;
  while (n < bytes) {
    const group = {};
    const k = `f:${word(rng)}`;
    n += k.length + 6;
    for (let i = rng.int(2, 8); i > 0 && n < bytes; i--) {
      const kk = rng.next() < 0.2 ? `k:{"name":"${word(rng)}"}` : `f:${word(rng)}${rng.next() < 0.3 ? `-${word(rng)}` : ''}`;
      group[kk] = rng.next() < 0.2 ? { '.': {}, [`f:${word(rng)}`]: {} } : {};
      n += kk.length + (group[kk]['.'] ? 28 : 6);
    }
    group['.'] = {};
    root[k] = group;
  }
  return root;
}
/** YAML-ish config text of about `bytes`. */
function configText(rng, bytes) {
  let t = '';
  while (t.length < bytes) t += `${'  '.repeat(rng.int(0, 2))}${word(rng)}: ${rng.next() < 0.5 ? word(rng) : rng.int(0, 65535)}\n`;
  return t.slice(0, bytes);
}

function body(rng, res, name, ns, target) {
  const base = { kind: res.kind, apiVersion: res.group ? `${res.group}/${res.version}` : res.version, metadata: meta(rng, name, ns, rng.int(0, 3)) };
  switch (res.resource) {
    case 'leases':
      base.spec = { holderIdentity: name, leaseDurationSeconds: 40, renewTime: '2026-11-20T07:00:00.000000Z' };
      break;
    case 'pods':
      base.spec = { nodeName: NODES[rng.int(0, NODES.length - 1)], serviceAccountName: 'default', containers: [{ name: 'app', image: `registry.example.com/shop/${name.split('-')[0]}:1.${rng.int(0, 40)}.${rng.int(0, 9)}`, resources: { requests: { cpu: '100m', memory: '128Mi' } }, ports: [{ containerPort: 8080, protocol: 'TCP' }] }] };
      base.status = { phase: 'Running', podIP: `10.244.${rng.int(0, 40)}.${rng.int(2, 250)}`, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-11-20T06:58:01Z' }] };
      break;
    case 'configmaps':
    case 'secrets':
      base.data = {};
      break;
    default:
      base.spec = {};
  }
  let text = JSON.stringify(base);
  if (text.length < target) {
    // Fill the way real objects are big: managedFields, labels/annotations, config text (structured,
    // compressible about as much as real audit bodies, not random bytes).
    const room = target - text.length;
    if (base.data) base.data[`${word(rng)}.yaml`] = configText(rng, room);
    else {
      const ann = labelMap(rng, Math.floor(room * 0.2));
      if (room > 600) ann['kubectl.kubernetes.io/last-applied-configuration'] = `${JSON.stringify({ apiVersion: base.apiVersion, kind: base.kind, metadata: { name, namespace: ns, annotations: labelMap(rng, Math.floor(room * 0.4)) } })}\n`;
      base.metadata.annotations = ann;
      base.metadata.managedFields = [{ manager: rng.pick(['kubectl-client-side-apply', 'kube-controller-manager', 'argocd-controller', 'helm']), operation: 'Update', apiVersion: base.apiVersion, time: '2026-11-19T22:41:07Z', fieldsType: 'FieldsV1', fieldsV1: fieldsV1(rng, Math.floor(room * 0.3)) }];
    }
    text = JSON.stringify(base);
  }
  return text;
}

/** A LIST response of about `target` bytes: many items, as a controller's relist or `kubectl get -A` returns. */
function listBody(rng, res, ns, target) {
  const item = body(rng, res, `${res.resource.slice(0, -1)}-item`, ns, 1800);
  const n = Math.max(1, Math.floor(target / (item.length + 1)));
  const items = [];
  for (let i = 0; i < n; i++) items.push(item.replace('-item"', `-${i.toString(36)}"`));
  return `{"kind":"${res.kind}List","apiVersion":"${res.group ? `${res.group}/${res.version}` : res.version}","metadata":{"resourceVersion":"${rng.int(1_000_000, 99_999_999)}"},"items":[${items.join(',')}]}`;
}

// ---- requests and their stages ------------------------------------------------------------------------------

function newRequest(rng, clockUs) {
  const caller = weighted(rng, users, userWeights);
  const [, verb, what, sub] = weighted(rng, ACTIONS[caller.kind], actionWeights[caller.kind]);
  const r = { caller, verb, auditID: uuid(rng), receivedUs: clockUs, stages: [] };
  if (what.startsWith('/')) {
    r.uri = what;
    r.level = 'Metadata';
    r.code = 200;
  } else {
    const res = byName[what];
    const ns = res.ns ? (caller.kind === 'node' && what === 'leases' ? 'kube-node-lease' : rng.pick(NAMESPACES)) : undefined;
    const collection = verb === 'list' || verb === 'watch' || (verb === 'create' && !sub);
    const name = caller.kind === 'node' && (what === 'leases' || what === 'nodes') ? caller.node : `${rng.pick(['api', 'web', 'worker', 'cache', 'db', 'auth', 'cart'])}-${hex8(rng.u32()).slice(0, 5)}`;
    const prefix = res.group ? `/apis/${res.group}/${res.version}` : `/api/${res.version}`;
    let uri = `${prefix}${ns ? `/namespaces/${ns}` : ''}/${res.resource}${collection ? '' : `/${name}`}${sub ? `/${sub}` : ''}`;
    if (verb === 'watch') uri += `?allowWatchBookmarks=true&resourceVersion=${rng.int(1_000_000, 99_999_999)}&timeout=${rng.int(5, 9)}m${rng.int(0, 59)}s&timeoutSeconds=${rng.int(300, 599)}&watch=true`;
    else if (verb === 'list') uri += `?limit=500&resourceVersion=0`;
    else if (verb === 'update' || verb === 'get') uri += `?timeout=${rng.pick(['5s', '10s', '32s'])}`;
    r.uri = uri;
    r.res = res;
    r.name = name;
    r.ns = ns;
    r.objectRef = { resource: res.resource, ...(ns ? { namespace: ns } : {}), ...(collection ? {} : { name }), ...(res.group ? { apiGroup: res.group } : {}), apiVersion: res.version, ...(sub ? { subresource: sub } : {}) };
    // Policy like GKE/ACK defaults: secrets/configmaps and tokenreviews at Metadata; writes at Request or
    // RequestResponse; reads mostly Metadata, some RequestResponse.
    const x = rng.next();
    if (what === 'secrets' || what === 'tokenreviews') r.level = 'Metadata';
    else if (verb === 'get' || verb === 'list' || verb === 'watch') r.level = x < 0.78 ? 'Metadata' : 'RequestResponse';
    else r.level = x < 0.35 ? 'Metadata' : x < 0.75 ? 'Request' : 'RequestResponse';
    r.code = verb === 'create' ? 201 : verb === 'get' && x < 0.04 ? 404 : 200;
    if (r.level !== 'Metadata') {
      const writes = verb !== 'get' && verb !== 'list' && verb !== 'watch';
      const big = rng.next();
      // Object sizes: mostly a few hundred bytes to a few KB; a few tens of KB; rarely a LIST of ~0.5–2 MB.
      const size = big < 0.002 ? rng.int(16_000, 120_000) : rng.int(150, 1100) + (rng.next() < 0.2 ? rng.int(500, 3000) : 0);
      if (writes) r.requestObject = body(rng, res, name, ns, size);
      if (r.level === 'RequestResponse') {
        if (verb === 'list' && rng.next() < 0.01) r.responseObject = listBody(rng, res, ns, rng.int(400_000, 2_000_000));
        else if (verb === 'list') r.responseObject = listBody(rng, res, ns, rng.int(2_000, 20_000));
        else if (verb !== 'watch' && verb !== 'delete') r.responseObject = writes && r.requestObject && rng.next() < 0.7 ? r.requestObject : body(rng, res, name, ns, size);
      }
    }
  }
  // Many policies omit RequestReceived (omitStages); watches and exec have ResponseStarted.
  if (rng.next() < 0.5) r.stages.push('RequestReceived');
  if (verb === 'watch' || r.objectRef?.subresource === 'exec') r.stages.push('ResponseStarted');
  r.stages.push('ResponseComplete');
  r.durUs = verb === 'watch' ? rng.int(300e6, 600e6) : rng.int(300, 40_000);
  return r;
}

function renderStage(r, stage, nowUs) {
  const c = r.caller;
  let s = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"${r.level}","auditID":"${r.auditID}","stage":"${stage}","requestURI":${JSON.stringify(r.uri)},"verb":"${r.verb}","user":${c.userJson ??= JSON.stringify(c.user)},"sourceIPs":["${c.ip}"],"userAgent":${c.uaJson ??= JSON.stringify(c.ua)}`;
  if (r.objectRef) s += `,"objectRef":${JSON.stringify(r.objectRef)}`;
  if (stage !== 'RequestReceived') {
    s += stage === 'ResponseStarted' ? `,"responseStatus":{"metadata":{},"code":101}` : r.code === 404 ? `,"responseStatus":{"metadata":{},"status":"Failure","message":"${r.res?.resource ?? 'resource'} \\"${r.name}\\" not found","reason":"NotFound","details":{"name":"${r.name}","kind":"${r.res?.resource}"},"code":404}` : `,"responseStatus":{"metadata":{},"code":${r.code}}`;
  }
  if (r.requestObject) s += `,"requestObject":${r.requestObject}`;
  if (stage === 'ResponseComplete' && r.responseObject) s += `,"responseObject":${r.responseObject}`;
  s += `,"requestReceivedTimestamp":"${microTime(r.receivedUs)}","stageTimestamp":"${microTime(nowUs)}"`;
  if (stage !== 'RequestReceived') {
    s += `,"annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":${r.caller.kind === 'node' ? '""' : `"RBAC: allowed by ClusterRoleBinding \\"system:${r.caller.kind}\\" of ClusterRole \\"system:${r.caller.kind}\\" to User \\"${r.caller.user.username}\\""`}`;
    if (r.caller.kind === 'sa') s += `,"authentication.k8s.io/stale-token":"subject: ${r.caller.user.username}, seconds after warning threshold: ${r.durUs % 3600}"`;
    s += '}';
  }
  return `${s}}\n`;
}

/**
 * An endless stream of audit lines: `next()` returns one line (with its `\n`). Requests overlap: up to 16 are
 * open and their stages interleave, as concurrent requests do in the real log.
 */
export function createAuditStream(seed = 1, startUs = Date.UTC(2026, 10, 20, 7, 0, 0) * 1000) {
  const rng = createRng(seed);
  let clock = startUs;
  const open = [];
  return {
    next() {
      clock += rng.int(5, 600);
      if (open.length < 16 && (open.length === 0 || rng.next() < 0.55)) {
        const r = newRequest(rng, clock);
        open.push(r);
      }
      const i = rng.int(0, open.length - 1);
      const r = open[i];
      const stage = r.stages.shift();
      const line = renderStage(r, stage, stage === 'ResponseComplete' ? Math.max(clock, r.receivedUs + r.durUs * (r.verb === 'watch' ? 0 : 1)) : clock);
      if (r.stages.length === 0) open.splice(i, 1);
      return line;
    },
  };
}

/** Path of the cached file of `bytes` for `seed`; generated (atomically) when missing. */
export function ensureAuditLog(bytes, seed = 1, { log = (m) => process.stderr.write(`${m}\n`) } = {}) {
  const dir = path.join(CACHE_DIR, `audit-${bytes}-s${seed}-v${GEN_VERSION}`);
  const file = path.join(dir, 'kubernetes.audit');
  const metaFile = path.join(dir, 'meta.json');
  if (fs.existsSync(metaFile) && fs.existsSync(file)) return { file, meta: JSON.parse(fs.readFileSync(metaFile, 'utf8')) };
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  const gen = createAuditStream(seed);
  const t0 = Date.now();
  let written = 0;
  let lines = 0;
  let min = Infinity;
  let max = 0;
  const levels = {};
  let parts = [];
  let partLen = 0;
  log(`generating ${(bytes / 1e6).toFixed(0)} MB of audit events (seed ${seed}) into ${file} ...`);
  while (written < bytes) {
    const line = gen.next();
    parts.push(line);
    partLen += line.length;
    written += line.length; // ASCII only: length == bytes
    lines++;
    if (line.length < min) min = line.length;
    if (line.length > max) max = line.length;
    const lv = line.slice(56, line.indexOf('"', 56));
    levels[lv] = (levels[lv] ?? 0) + 1;
    if (partLen >= 4 << 20) {
      fs.writeSync(fd, parts.join(''));
      parts = [];
      partLen = 0;
    }
  }
  if (parts.length) fs.writeSync(fd, parts.join(''));
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
  const meta = {
    seed,
    genVersion: GEN_VERSION,
    bytes: written,
    lines,
    minLine: min,
    maxLine: max,
    meanLine: Math.round(written / lines),
    levels,
    seconds: (Date.now() - t0) / 1000,
  };
  fs.writeFileSync(metaFile, `${JSON.stringify(meta, null, 2)}\n`);
  log(`generated ${lines} events, ${(written / 1e6).toFixed(1)} MB in ${meta.seconds.toFixed(1)} s (lines ${min}..${max} B, mean ${meta.meanLine} B)`);
  return { file, meta };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  const get = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const { file, meta } = ensureAuditLog(parseSize(get('--size', '1G')), Number(get('--seed', '1')));
  process.stdout.write(`${file}\n${JSON.stringify(meta)}\n`);
}
