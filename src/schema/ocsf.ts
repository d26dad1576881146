import { compact, isoFromNanos, obj, str, strList, type Json, type JsonObject, type SchemaInput, type SchemaOptions, auditParts } from './audit-fields.js';

export const OCSF_VERSION = '1.2.0';

/** verb → OCSF API Activity `activity_id` (create 1, read 2, update 3, delete 4, other 99). */
export function ocsfActivity(verb: string | undefined): { id: number; name: string } {
  switch (verb) {
    case 'create':
      return { id: 1, name: 'Create' };
    case 'get':
    case 'list':
    case 'watch':
      return { id: 2, name: 'Read' };
    case 'update':
    case 'patch':
      return { id: 3, name: 'Update' };
    case 'delete':
    case 'deletecollection':
      return { id: 4, name: 'Delete' };
    default:
      return { id: 99, name: 'Other' };
  }
}

/**
 * `?schema=ocsf`: OCSF API Activity (class_uid 6003, category 6 Application Activity, OCSF 1.2.0), the mapping
 * Amazon Security Lake and the OCSF EKS dossier use, with `metadata.product` = Kubernetes for self-managed
 * clusters. What has no OCSF slot is kept in `unmapped` (the bodies as JSON strings unless `?bodies=object`).
 */
export function toOcsf(input: SchemaInput, opts: SchemaOptions): JsonObject {
  const { ev, stageNs, startNs, user, imp, ref, status, ips, uri, code, decision } = auditParts(input);
  const activity = ocsfActivity(str(ev.verb));
  const statusId = decision === 'forbid' || (code !== undefined && code >= 400) ? 2 : code !== undefined || decision === 'allow' ? 1 : 0;
  const groups = strList(user?.groups);
  const msToIso = (ns: bigint) => isoFromNanos(ns);

  const doc: Record<string, unknown> = {
    class_uid: 6003,
    class_name: 'API Activity',
    category_uid: 6,
    category_name: 'Application Activity',
    activity_id: activity.id,
    activity_name: activity.name,
    type_uid: 600300 + activity.id,
    type_name: `API Activity: ${activity.name}`,
    time: Number(stageNs / 1_000_000n),
    time_dt: msToIso(stageNs),
    start_time: startNs !== undefined ? Number(startNs / 1_000_000n) : undefined,
    start_time_dt: startNs !== undefined ? msToIso(startNs) : undefined,
    severity_id: 1,
    severity: 'Informational',
    status_id: statusId,
    status: statusId === 1 ? 'Success' : statusId === 2 ? 'Failure' : 'Unknown',
    status_code: code !== undefined ? String(code) : undefined,
    status_detail: str(status?.reason) ?? str(status?.message),
    message: str(ev.stage),
    actor: {
      user: {
        name: str(user?.username) ?? 'unknown',
        uid: str(user?.uid),
        groups: groups?.map((name) => ({ name })),
      },
      invoked_by: imp ? str(imp.username) : undefined,
    },
    api: {
      operation: str(ev.verb) ?? 'unknown',
      request: { uid: str(ev.auditID) ?? input.eventId },
      response: code !== undefined ? { code, message: str(status?.message), error: str(status?.reason) } : undefined,
      version: str(ref?.apiVersion),
      group: str(ref?.apiGroup) ? { name: str(ref?.apiGroup) } : undefined,
      service: { name: 'kube-apiserver' },
    },
    src_endpoint: {
      ip: ips?.[0],
      intermediate_ips: ips && ips.length > 1 ? ips.slice(1) : undefined,
      // src_endpoint needs at least one attribute: an event without sourceIPs still says where it was seen
      hostname: ips ? undefined : input.tags.__hostname__ ?? 'unknown',
    },
    resources: ref ? [ocsfResource(ref)] : undefined,
    http_request: ocsfHttpRequest(uri, str(ev.userAgent)),
    http_response: code !== undefined ? { code } : undefined,
    metadata: ocsfMetadata(ev, input),
    cloud: input.tags.__cluster_id__ ? { provider: 'Kubernetes', account: { uid: input.tags.__cluster_id__ } } : undefined,
    observables: observables(str(user?.username), ips?.[0], uri),
    unmapped: unmapped(ev, opts),
  };
  return compact(doc) as JsonObject;
}

/** The object of the request, as one OCSF resource. */
function ocsfResource(ref: JsonObject): unknown {
  return compact({
    type: str(ref.subresource) ? `${str(ref.resource) ?? ''}/${str(ref.subresource)}` : str(ref.resource),
    name: str(ref.name),
    namespace: str(ref.namespace),
    uid: str(ref.uid),
    version: str(ref.resourceVersion),
  });
}

function ocsfHttpRequest(uri: string | undefined, userAgent: string | undefined): unknown {
  if (!uri && !userAgent) return undefined;
  const q = uri ? uri.indexOf('?') : -1;
  return {
    user_agent: userAgent,
    url: uri ? { url_string: uri, path: q < 0 ? uri : uri.slice(0, q), query_string: q < 0 ? undefined : uri.slice(q + 1) || undefined } : undefined,
  };
}

function ocsfMetadata(ev: JsonObject, input: SchemaInput): unknown {
  return {
    version: OCSF_VERSION,
    uid: input.eventId,
    log_level: str(ev.level),
    log_name: 'kubernetes-audit',
    logged_time: Number(BigInt(input.event.time) * 1000n + BigInt(Math.floor(input.event.timeNs / 1e6))),
    correlation_uid: str(ev.auditID),
    profiles: ['datetime'],
    product: { name: 'Kubernetes', vendor_name: 'CNCF', version: str(ev.apiVersion) },
  };
}

function observables(user: string | undefined, ip: string | undefined, uri: string | undefined): JsonObject[] | undefined {
  const out: JsonObject[] = [];
  if (user) out.push({ name: 'actor.user.name', type: 'User Name', type_id: 4, value: user });
  if (ip) out.push({ name: 'src_endpoint.ip', type: 'IP Address', type_id: 2, value: ip });
  if (uri) out.push({ name: 'http_request.url.path', type: 'URL String', type_id: 6, value: uri });
  return out.length > 0 ? out : undefined;
}

/** What has no OCSF attribute: kept so that nothing is lost (bodies as one string each by default). */
function unmapped(ev: JsonObject, opts: SchemaOptions): JsonObject | undefined {
  const out: JsonObject = {};
  const extra = obj(ev.user)?.extra;
  if (extra !== undefined) out.user_extra = extra;
  for (const key of ['annotations', 'impersonatedUser', 'requestObject', 'responseObject'] as const) {
    const v: Json | undefined = ev[key];
    if (v === undefined || v === null) continue;
    out[key] = (key === 'requestObject' || key === 'responseObject') && opts.bodies !== 'object' ? JSON.stringify(v) : v;
  }
  if (ev.content !== undefined) out.content = ev.content;
  return Object.keys(out).length > 0 ? out : undefined;
}
