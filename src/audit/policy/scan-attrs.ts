// The request attributes a policy rule reads from one event (user.username, user.groups, objectRef.*), into
// one reused object: scan-event.ts fills the top-level ones and calls these for the nested user and objectRef.

import type { RequestAttributes } from './types.js';
import { eachMember, isKey, skipValue, skipWs, stringEnd, stringValue } from './json-skip.js';

// One reused result: the processor is synchronous and keeps nothing of it past the call.
export const groups: string[] = [];
export const attrs: RequestAttributes = {
  hasUser: false,
  username: '',
  groups,
  verb: '',
  resourceRequest: false,
  namespace: '',
  apiGroup: '',
  resource: '',
  subresource: '',
  name: '',
  path: '',
};

/** Reads a string value at `i` into `lastString` ('' when the value is not a string); returns the index past it. */
export let lastString = '';
export function readString(s: string, i: number): number {
  if (s.charCodeAt(i) === 0x22) {
    const end = stringEnd(s, i);
    if (end < 0) return -1;
    lastString = stringValue(s, i, end);
    return end;
  }
  lastString = '';
  return skipValue(s, i);
}

export function scanUser(s: string, i: number): number {
  attrs.hasUser = true;
  attrs.username = '';
  groups.length = 0;
  return eachMember(s, i, (ks, ke, vs) => {
    if (isKey(s, ks, ke, 'username')) {
      const end = readString(s, vs);
      attrs.username = lastString;
      return end;
    }
    if (isKey(s, ks, ke, 'groups')) {
      groups.length = 0;
      if (s.charCodeAt(vs) !== 0x5b) return skipValue(s, vs);
      let j = skipWs(s, vs + 1);
      if (s.charCodeAt(j) === 0x5d) return j + 1;
      for (;;) {
        if (s.charCodeAt(j) === 0x22) {
          j = readString(s, j);
          if (j < 0) return -1;
          groups.push(lastString);
        } else {
          j = skipValue(s, j);
          if (j < 0) return -1;
        }
        j = skipWs(s, j);
        const c = s.charCodeAt(j);
        if (c === 0x2c) j = skipWs(s, j + 1);
        else if (c === 0x5d) return j + 1;
        else return -1;
      }
    }
    return skipValue(s, vs);
  });
}

export function scanObjectRef(s: string, i: number): number {
  attrs.resourceRequest = true;
  attrs.namespace = attrs.apiGroup = attrs.resource = attrs.subresource = attrs.name = '';
  return eachMember(s, i, (ks, ke, vs) => {
    const len = ke - ks - 2;
    let end: number;
    switch (len) {
      case 4:
        if (!isKey(s, ks, ke, 'name')) break;
        end = readString(s, vs);
        attrs.name = lastString;
        return end;
      case 8:
        if (isKey(s, ks, ke, 'resource')) {
          end = readString(s, vs);
          attrs.resource = lastString;
          return end;
        }
        if (isKey(s, ks, ke, 'apiGroup')) {
          end = readString(s, vs);
          attrs.apiGroup = lastString;
          return end;
        }
        break;
      case 9:
        if (!isKey(s, ks, ke, 'namespace')) break;
        end = readString(s, vs);
        attrs.namespace = lastString;
        return end;
      case 11:
        if (!isKey(s, ks, ke, 'subresource')) break;
        end = readString(s, vs);
        attrs.subresource = lastString;
        return end;
    }
    return skipValue(s, vs);
  });
}

