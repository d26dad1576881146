// The request attributes of a parsed audit event (the JSON.parse path, for what the scan of scan-event.ts leaves).

import type { RequestAttributes } from './types.js';

/** The path of a request URI: without its query string. */
export function pathOf(uri: string): string {
  const q = uri.indexOf('?');
  return q < 0 ? uri : uri.slice(0, q);
}

/** The same fields from a parsed event (the JSON.parse path, for what the scan leaves). */
export function attributesOf(ev: Record<string, unknown>): { attrs: RequestAttributes; stage: string; level: string; auditID: string } {
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const user = ev.user;
  const ref = ev.objectRef;
  const g = isObj(user) && Array.isArray(user.groups) ? (user.groups as unknown[]).filter((x): x is string => typeof x === 'string') : [];
  return {
    attrs: {
      hasUser: isObj(user),
      username: isObj(user) ? str(user.username) : '',
      groups: g,
      verb: str(ev.verb),
      resourceRequest: isObj(ref),
      namespace: isObj(ref) ? str(ref.namespace) : '',
      apiGroup: isObj(ref) ? str(ref.apiGroup) : '',
      resource: isObj(ref) ? str(ref.resource) : '',
      subresource: isObj(ref) ? str(ref.subresource) : '',
      name: isObj(ref) ? str(ref.name) : '',
      path: pathOf(str(ev.requestURI)),
    },
    stage: str(ev.stage),
    level: str(ev.level),
    auditID: str(ev.auditID),
  };
}
