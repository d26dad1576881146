// daemonset.yaml: every object passes the Kubernetes OpenAPI schema (kubernetes-models) with no unknown field,
// and the properties the deployment relies on are what the design says.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { daemonsetPath, loadDeployment, loadDocuments, validateStrict } from './k8s.js';

const { docs, daemonSet, podSpec, container, volumes } = loadDeployment();
const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e]));

function mountOf(mountPath: string) {
  const mount = container.volumeMounts?.find((m) => m.mountPath === mountPath);
  if (!mount) throw new Error(`no volumeMount at ${mountPath}`);
  const volume = volumes.find((v) => v.name === mount.name);
  if (!volume) throw new Error(`volumeMount ${mount.name} has no volume`);
  return { mount, volume };
}

describe('daemonset.yaml schema', () => {
  it('holds a Namespace, a ServiceAccount and a DaemonSet, all in the tailship namespace', () => {
    expect(docs.map((d) => `${d.apiVersion} ${d.kind}`)).toEqual(['v1 Namespace', 'v1 ServiceAccount', 'apps/v1 DaemonSet']);
    expect(docs[0]!.metadata?.name).toBe('tailship');
    for (const d of docs.slice(1)) expect(d.metadata?.namespace).toBe('tailship');
    expect(podSpec.serviceAccountName).toBe(docs[1]!.metadata?.name);
  });

  it.each(loadDocuments().map((d) => [`${d.kind} ${d.metadata?.name}`, d] as const))(
    '%s validates against the Kubernetes OpenAPI schema with no unknown field',
    (_name, obj) => {
      expect(() => validateStrict(obj)).not.toThrow();
    },
  );

  // The checks above must be able to fail: each broken copy is rejected, with the path of the fault.
  const broken: [string, (ds: any) => void, RegExp][] = [
    ['a port that is a string', (ds) => (ds.spec.template.spec.containers[0].ports[0].containerPort = '2020'), /containerPort must be integer/],
    ['a missing selector', (ds) => delete ds.spec.selector, /must have required property 'selector'|required property selector/],
    ['a boolean given as a string', (ds) => (ds.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = 'true'), /readOnlyRootFilesystem must be boolean/],
    ['a misspelt field', (ds) => (ds.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem = true), /unknown field\(s\) \/spec\/template\/spec\/containers\/0\/securityContext\/readOnlyRootFileSystem/],
    ['a misspelt toleration key', (ds) => (ds.spec.template.spec.tolerations[0].efect = 'NoSchedule'), /unknown field\(s\) \/spec\/template\/spec\/tolerations\/0\/efect/],
    ['a wrong apiVersion', (ds) => (ds.apiVersion = 'extensions/v1beta1'), /no schema model for extensions\/v1beta1 DaemonSet/],
    ['env without a name', (ds) => delete ds.spec.template.spec.containers[0].env[0].name, /must have required property 'name'|required property name/],
  ];
  it.each(broken)('rejects a copy with %s', (_what, mutate, error) => {
    const copy = structuredClone(daemonSet);
    mutate(copy);
    expect(() => validateStrict(copy)).toThrow(error);
  });
});

describe('daemonset.yaml scheduling', () => {
  it('runs only on control-plane nodes: control-plane OR legacy master label, via required node affinity', () => {
    const terms = podSpec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    // Separate terms are ORed; expressions inside one term would be ANDed (no node has both on >= 1.24).
    expect(terms).toEqual([
      { matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }] },
      { matchExpressions: [{ key: 'node-role.kubernetes.io/master', operator: 'Exists' }] },
    ]);
    expect(podSpec.nodeSelector).toBeUndefined();
  });

  it('item 15: tolerates the NoSchedule and NoExecute taints of both labels', () => {
    for (const key of ['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master']) {
      for (const effect of ['NoSchedule', 'NoExecute']) expect(podSpec.tolerations).toContainEqual({ key, operator: 'Exists', effect });
    }
  });

  it('item 15: waits for inputs instead of crash-looping on a node with none (TAILSHIP_WAIT_FOR_INPUTS)', () => {
    expect(env.TAILSHIP_WAIT_FOR_INPUTS?.value).toBe('true');
  });

  it('is system-node-critical, rolls one node at a time, and outlives its own shutdown grace', () => {
    expect(podSpec.priorityClassName).toBe('system-node-critical');
    expect(daemonSet.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
    const graceMs = Number(env.TAILSHIP_SHUTDOWN_GRACE?.value ?? 10_000); // SPEC §1 default
    expect(podSpec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(graceMs);
  });

  it('selects its own pods', () => {
    const labels = daemonSet.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(daemonSet.spec.selector.matchLabels)) expect(labels[k]).toBe(v);
  });
});

describe('daemonset.yaml mounts', () => {
  it('mounts the audit log directory read-only at its host path (so --host-root stays empty)', () => {
    const { mount, volume } = mountOf('/var/log/kubernetes');
    expect(mount.readOnly).toBe(true);
    expect(volume.hostPath?.path).toBe('/var/log/kubernetes');
    expect(env.TAILSHIP_HOST_ROOT).toBeUndefined();
  });

  it('mounts the static pod manifests read-only and points --manifests at them', () => {
    const { mount, volume } = mountOf('/etc/kubernetes/manifests');
    expect(mount.readOnly).toBe(true);
    expect(volume.hostPath?.path).toBe('/etc/kubernetes/manifests');
    expect(env.TAILSHIP_MANIFESTS?.value).toBe('/etc/kubernetes/manifests');
  });

  it('keeps state on the node under /var/lib/tailship (DirectoryOrCreate, writable), the default file store included', () => {
    const { mount, volume } = mountOf('/var/lib/tailship');
    expect(mount.readOnly).not.toBe(true);
    expect(volume.hostPath).toEqual({ path: '/var/lib/tailship', type: 'DirectoryOrCreate' });
    expect(env.TAILSHIP_STATE_DIR?.value).toBe('/var/lib/tailship');
    expect(env.TAILSHIP_SINK?.value).toMatch(/^file:\/var\/lib\/tailship\//);
  });

  it('writes nowhere but the state dir: every other mount is read-only and the root filesystem too', () => {
    const writable = (container.volumeMounts ?? []).filter((m) => !m.readOnly).map((m) => m.mountPath);
    expect(writable).toEqual(['/var/lib/tailship']);
    expect(container.securityContext?.readOnlyRootFilesystem).toBe(true);
  });

  it('mounts every hostPath volume at its own host path (container path = host path)', () => {
    for (const m of container.volumeMounts ?? []) {
      const v = volumes.find((x) => x.name === m.name);
      if (v?.hostPath) expect(m.mountPath).toBe(v.hostPath.path);
      expect(m.subPath).toBeUndefined();
    }
  });
});

describe('daemonset.yaml env, probes and resources', () => {
  it('item 15: takes NODE_NAME from the downward API and listens on all pod addresses, dual-stack, on port 2020', () => {
    expect(env.NODE_NAME?.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
    expect(env.TAILSHIP_LISTEN?.value).toBe('[::]:2020');
    expect(container.ports).toEqual([{ name: 'metrics', containerPort: 2020, protocol: 'TCP' }]);
  });

  it('reads SLS credentials from the optional Secret tailship-sls', () => {
    for (const name of ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET']) {
      expect(env[name]?.valueFrom?.secretKeyRef).toEqual({ name: 'tailship-sls', key: name, optional: true });
    }
    // No credential is ever written in the file itself.
    expect(docs.some((d) => d.kind === 'Secret')).toBe(false);
  });

  it('documents an SLS sink as a commented alternative', () => {
    expect(readFileSync(daemonsetPath, 'utf8')).toMatch(/^\s*#\s*value: sls:\/\/\S+\?project=\S+$/m);
  });

  it('probes /healthz (liveness) and /readyz (readiness) on the named port that TAILSHIP_LISTEN opens', () => {
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    const listenPort = Number(env.TAILSHIP_LISTEN?.value?.split(':').at(-1));
    expect(container.ports?.find((p) => p.name === 'metrics')?.containerPort).toBe(listenPort);
  });

  it('is scraped by Prometheus on the metrics port', () => {
    expect(daemonSet.spec.template.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(container.ports?.[0]?.containerPort),
      'prometheus.io/path': '/metrics',
    });
  });

  it('has requests and limits sized from the measured RSS, and a V8 heap cap below the memory limit', () => {
    expect(container.resources).toEqual({
      requests: { cpu: '50m', memory: '128Mi' },
      limits: { cpu: '500m', memory: '256Mi' },
    });
    const heapMiB = Number(/--max-old-space-size=(\d+)/.exec(env.NODE_OPTIONS?.value ?? '')?.[1]);
    expect(heapMiB).toBeGreaterThanOrEqual(100);
    expect(heapMiB).toBeLessThanOrEqual(256 / 2); // leaves room for young space, code and native buffers
  });
});

describe('daemonset.yaml security', () => {
  it('runs as uid 0 with every capability dropped and none added, no privilege escalation', () => {
    expect(podSpec.securityContext.runAsUser).toBe(0);
    expect(container.securityContext).toMatchObject({
      runAsUser: 0,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.securityContext?.capabilities?.add ?? []).toEqual([]);
    expect(podSpec.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
  });

  it('stays off the host namespaces and carries no API token', () => {
    expect(podSpec.hostNetwork).toBe(false);
    expect(podSpec.hostPID).toBe(false);
    expect(podSpec.hostIPC).toBe(false);
    expect(podSpec.automountServiceAccountToken).toBe(false);
    expect((docs[1] as any).automountServiceAccountToken).toBe(false);
  });

  it('uses a pinned, versioned image reference', () => {
    expect(container.image).toMatch(/^[\w.-]+(\/[\w.-]+)+:\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?$/);
    expect(container.args).toEqual(['run']);
    expect(container.command).toBeUndefined(); // the image's ENTRYPOINT (see dockerfile.test.ts)
  });
});
