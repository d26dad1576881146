import { compact, isoFromNanos, obj, str, userTags, type Json, type JsonObject, type SchemaInput, type SchemaOptions, auditParts } from './audit-fields.js';

/** The ECS version the documents claim (the field reference the tests check against: test/fixtures/ecs/). */
export const ECS_VERSION = '8.11.0';

/**
 * `?schema=ecs`: an Elastic Common Schema document shaped like Elastic's own Kubernetes integration
 * (`kubernetes.audit_logs` data stream: the event under `kubernetes.audit.*`, annotation keys dedotted, the ECS
 * fields its ingest pipeline sets), plus what the pipeline leaves to the shipper: `orchestrator.cluster.id` from
 * the `__cluster_id__` tag, `host.name`, `event.id` (= `__event_id__`). `requestObject` / `responseObject` are one
 * JSON string each unless `?bodies=object` (Need 6: they explode the 1000-field limit and conflict in type).
 */
export function toEcs(input: SchemaInput, opts: SchemaOptions): JsonObject {
  const { ev, stageNs, startNs, user, imp, ref, ips, uri, code, decision } = auditParts(input);
  const { tags } = input;
  const q = uri ? uri.indexOf('?') : -1;
  const users = [str(user?.username), str(imp?.username)].filter((u): u is string => u !== undefined);

  const doc: JsonObject = {
    '@timestamp': isoFromNanos(stageNs),
    ecs: { version: ECS_VERSION },
    event: {
      kind: 'event',
      id: input.eventId,
      module: 'kubernetes',
      dataset: 'kubernetes.audit_logs',
      action: str(ev.verb) ?? null,
      outcome: decision === 'allow' ? 'success' : decision === 'forbid' ? 'failure' : code !== undefined ? (code < 400 ? 'success' : 'failure') : null,
      start: startNs !== undefined ? isoFromNanos(startNs) : null,
      end: isoFromNanos(stageNs),
      duration: startNs !== undefined && stageNs >= startNs ? Number(stageNs - startNs) : null,
    },
    user: {
      name: str(user?.username) ?? null,
      id: str(user?.uid) ?? null,
      effective: imp ? { name: str(imp.username) ?? null, id: str(imp.uid) ?? null } : null,
    },
    user_agent: { original: str(ev.userAgent) ?? null },
    source: { ip: ips?.[0] ?? null },
    client: { ip: ips?.[0] ?? null },
    related: { ip: ips ?? null, user: users.length > 0 ? users : null },
    url: uri ? { original: uri, path: q < 0 ? uri : uri.slice(0, q), query: q < 0 ? null : uri.slice(q + 1) || null } : null,
    http: code !== undefined ? { response: { status_code: code } } : null,
    orchestrator: {
      type: 'kubernetes',
      api_version: str(ref?.apiVersion) ?? null,
      namespace: str(ref?.namespace) ?? null,
      resource: ref ? { type: str(ref.resource) ?? null, name: str(ref.name) ?? null, parent: null } : null,
      cluster: tags.__cluster_id__ ? { id: tags.__cluster_id__ } : null,
    },
    host: tags.__hostname__ ? { name: tags.__hostname__ } : null,
    labels: labelsOf(tags, input.event.markers),
    container: containerImages(ev),
    kubernetes: { audit: auditObject(ev, opts) },
  };
  return compact(nullsToUndefined(doc) as Record<string, unknown>) as JsonObject;
}

/** `kubernetes.audit`: the event, annotation keys dedotted (`authorization_k8s_io/decision`, as Elastic's pipeline). */
function auditObject(ev: JsonObject, opts: SchemaOptions): JsonObject {
  const out: JsonObject = { ...ev };
  const annotations = obj(ev.annotations);
  if (annotations) {
    const dedotted: JsonObject = {};
    for (const [k, v] of Object.entries(annotations)) dedotted[k.replace(/\./g, '_')] = v;
    out.annotations = dedotted;
  }
  for (const key of ['requestObject', 'responseObject'] as const) {
    const body = out[key];
    if (body === undefined || body === null) continue;
    out[key] = opts.bodies === 'object' ? withoutManagedFields(body) : JSON.stringify(body);
  }
  return out;
}

/** In object mode the bodies stay, but `metadata.managedFields` goes: its `fieldsV1` keys (`f:…`, `.`) break mappings. */
function withoutManagedFields(body: Json): Json {
  const o = obj(body);
  const meta = o ? obj(o.metadata) : undefined;
  if (!o || !meta || meta.managedFields === undefined) return body;
  const { managedFields: _drop, ...rest } = meta;
  return { ...o, metadata: rest };
}

/** `container.image.name` from a pod's `requestObject.spec.containers[].image`, as Elastic's pipeline sets it. */
function containerImages(ev: JsonObject): JsonObject | null {
  const spec = obj(obj(ev.requestObject)?.spec);
  const containers = Array.isArray(spec?.containers) ? spec!.containers : [];
  const images = containers.map((c) => str(obj(c)?.image)).filter((s): s is string => s !== undefined);
  return images.length > 0 ? { image: { name: images.length === 1 ? images[0]! : images } } : null;
}

function nullsToUndefined(v: unknown): unknown {
  if (v === null) return undefined;
  if (Array.isArray(v) || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k === 'kubernetes') continue; // the event itself keeps its nulls
    o[k] = nullsToUndefined(o[k]);
  }
  return o;
}

/** ECS `labels`: the input's own tags and the log's markers (`__truncated__` → `truncated`), keyword values. */
function labelsOf(tags: Readonly<Record<string, string>>, markers: Readonly<Record<string, string>> | undefined): JsonObject | null {
  const out: JsonObject = { ...userTags(tags) };
  for (const [k, v] of Object.entries(markers ?? {})) if (k !== '__event_id__') out[k.replace(/^_+|_+$/g, '')] = v;
  return Object.keys(out).length > 0 ? out : null;
}
