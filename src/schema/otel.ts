import { eventObject, eventTimeNanos, num, obj, str, strList, type Json, type JsonObject, type SchemaInput } from './audit-fields.js';

/** An OTLP AnyValue, as far as tailship produces them. */
export type AnyValue =
  | { string: string }
  | { bool: boolean }
  | { int: bigint }
  | { double: number }
  | { array: AnyValue[] }
  | { kvlist: KeyValue[] };
export type KeyValue = [key: string, value: AnyValue];

/** An OpenTelemetry LogRecord (logs data model), before protobuf encoding (otlp sink) or JSON (other sinks). */
export interface OtelLogRecord {
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  /** SEVERITY_NUMBER_INFO (9) for a request that succeeded, WARN (13) for 4xx, ERROR (17) for 5xx. */
  severityNumber: number;
  severityText: string;
  /** LogRecord.event_name (newer protos); also the attribute `event.name`. */
  eventName: string;
  /** The whole event, as one string (its JSON line), so a backend that cannot take nested maps still has it. */
  body: AnyValue;
  attributes: KeyValue[];
}

/**
 * `?schema=otel`: one LogRecord per audit event. There is no OpenTelemetry semantic convention for audit logs
 * (research §2.4), so the attributes use the registered names where one fits (`user.name`, `user.id`,
 * `user.roles`, `client.address`, `user_agent.original`, `url.path`, `http.response.status_code`,
 * `k8s.namespace.name`) and `k8s.audit.*` for the rest. The resource (tags, host, cluster) is the sink's business.
 */
export function toOtel(input: SchemaInput): OtelLogRecord {
  const ev = eventObject(input.event);
  const user = obj(ev.user);
  const ref = obj(ev.objectRef);
  const status = obj(ev.responseStatus);
  const code = status ? num(status.code) : undefined;
  const uri = str(ev.requestURI);
  const q = uri ? uri.indexOf('?') : -1;
  const attrs: KeyValue[] = [];
  const put = (key: string, v: string | undefined) => {
    if (v !== undefined) attrs.push([key, { string: v }]);
  };
  put('event.name', 'k8s.audit');
  put('k8s.audit.event_id', input.eventId);
  put('k8s.audit.audit_id', str(ev.auditID));
  put('k8s.audit.stage', str(ev.stage));
  put('k8s.audit.level', str(ev.level));
  put('k8s.audit.verb', str(ev.verb));
  put('k8s.audit.object_ref.resource', str(ref?.resource));
  put('k8s.audit.object_ref.subresource', str(ref?.subresource));
  put('k8s.audit.object_ref.name', str(ref?.name));
  put('k8s.audit.object_ref.api_group', str(ref?.apiGroup));
  put('k8s.audit.object_ref.api_version', str(ref?.apiVersion));
  put('k8s.namespace.name', str(ref?.namespace));
  put('user.name', str(user?.username));
  put('user.id', str(user?.uid));
  const groups = strList(user?.groups);
  if (groups) attrs.push(['user.roles', { array: groups.map((g) => ({ string: g })) }]);
  put('k8s.audit.impersonated_user.name', str(obj(ev.impersonatedUser)?.username));
  const ips = strList(ev.sourceIPs);
  put('client.address', ips?.[0]);
  if (ips && ips.length > 1) attrs.push(['k8s.audit.source_ips', { array: ips.map((ip) => ({ string: ip })) }]);
  put('user_agent.original', str(ev.userAgent));
  put('url.path', uri ? (q < 0 ? uri : uri.slice(0, q)) : undefined);
  put('url.query', uri && q >= 0 ? uri.slice(q + 1) || undefined : undefined);
  if (code !== undefined && Number.isInteger(code)) attrs.push(['http.response.status_code', { int: BigInt(code) }]);
  put('k8s.audit.decision', str(obj(ev.annotations)?.['authorization.k8s.io/decision']));
  put('k8s.audit.reason', str(obj(ev.annotations)?.['authorization.k8s.io/reason']));
  for (const [k, v] of Object.entries(input.event.markers ?? {})) if (k !== '__event_id__') put(`tailship.${k.replace(/^__|__$/g, '')}`, v);

  const severity = code === undefined || code < 400 ? { n: 9, t: 'INFO' } : code < 500 ? { n: 13, t: 'WARN' } : { n: 17, t: 'ERROR' };
  return {
    timeUnixNano: eventTimeNanos(ev, input.event),
    observedTimeUnixNano: BigInt(input.event.time) * 1_000_000_000n + BigInt(input.event.timeNs),
    severityNumber: severity.n,
    severityText: severity.t,
    eventName: 'k8s.audit',
    body: { string: input.event.isObject ? input.event.raw : JSON.stringify({ content: input.event.raw }) },
    attributes: attrs,
  };
}

/** The record as plain JSON (OTLP/JSON field names), for sinks other than otlp: `?schema=otel` on file/http. */
export function otelJson(rec: OtelLogRecord): JsonObject {
  return {
    timeUnixNano: rec.timeUnixNano.toString(),
    observedTimeUnixNano: rec.observedTimeUnixNano.toString(),
    severityNumber: rec.severityNumber,
    severityText: rec.severityText,
    eventName: rec.eventName,
    body: anyJson(rec.body),
    attributes: rec.attributes.map(([key, value]) => ({ key, value: anyJson(value) })),
  };
}

function anyJson(v: AnyValue): Json {
  if ('string' in v) return { stringValue: v.string };
  if ('bool' in v) return { boolValue: v.bool };
  if ('int' in v) return { intValue: v.int.toString() };
  if ('double' in v) return { doubleValue: v.double };
  if ('array' in v) return { arrayValue: { values: v.array.map(anyJson) } };
  return { kvlistValue: { values: v.kvlist.map(([key, value]) => ({ key, value: anyJson(value) })) } };
}
