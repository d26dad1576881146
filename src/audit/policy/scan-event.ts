// A targeted scan of one audit event's JSON text: the fields a policy rule needs (user.username, user.groups, verb,
// objectRef.{namespace,resource,subresource,apiGroup,name}, requestURI), plus stage, level and auditID, and where
// each top-level member is, so that bodies can be cut out by splicing instead of parse + stringify.
//
// The text was already validated as one JSON object (src/parse/parse-line.ts), so the scan only skips values; it
// gives up (returns false) where decoding would be needed to know a key (a key with a backslash escape at the
// levels it reads), and the caller then uses JSON.parse. Duplicate keys: the last one wins, as in JSON.parse.

import type { RequestAttributes } from './types.js';
import { isKey, keyHasEscape, skipValue, skipWs, stringEnd } from './json-skip.js';
import { attrs, groups, lastString, readString, scanObjectRef, scanUser } from './scan-attrs.js';
import { pathOf } from './attributes-of.js';
import { memberKeyIs, memberKeyStart, memberValueEnd, memberValueStart, scanned } from '../../parse/top-members.js';

export { attributesOf, pathOf } from './attributes-of.js';

/** Kinds of top-level members the processor may rewrite. */
export const M_OTHER = 0;
export const M_LEVEL = 1;
export const M_REQUEST_OBJECT = 2;
export const M_RESPONSE_OBJECT = 3;
/** The members matched by the canonical head (kind … objectRef) as one span; `level` inside it at levelAt. */
export const M_HEAD = 4;

export interface ScannedEvent {
  attrs: RequestAttributes;
  stage: string;
  level: string;
  auditID: string;
  /** Flat triples per top-level member, in text order: key start (its quote), value start, value end. */
  spans: number[];
  /** Kind of each member (M_*), parallel to spans / 3. */
  kinds: number[];
  /** Members of kind M_REQUEST_OBJECT / M_RESPONSE_OBJECT present (in `spans`). */
  bodies: number;
  /** ≥ 0: the scan stopped at this member (a body; nothing after it decides): call scanRest() for the spans. */
  restAt: number;
  /** With an M_HEAD span: where the `level` value's characters start (its quote + 1) and end. */
  levelAt: number;
  levelEnd: number;
}

// One reused result: the processor is synchronous and keeps nothing of it past the call.
const result: ScannedEvent = { attrs, stage: '', level: '', auditID: '', spans: [], kinds: [], bodies: 0, restAt: -1, levelAt: -1, levelEnd: -1 };

let requestURI = '';

function topMember(s: string, ks: number, ke: number, vs: number): number {
  const len = ke - ks - 2;
  let kind = M_OTHER;
  let end = -2;
  const c = s.charCodeAt(vs);
  switch (len) {
    case 4:
      if (isKey(s, ks, ke, 'verb')) {
        end = readString(s, vs);
        attrs.verb = lastString;
      } else if (isKey(s, ks, ke, 'user')) {
        if (c === 0x7b) end = scanUser(s, vs);
        else {
          attrs.hasUser = false;
          attrs.username = '';
          groups.length = 0;
        }
      }
      break;
    case 5:
      if (isKey(s, ks, ke, 'level')) {
        kind = M_LEVEL;
        end = readString(s, vs);
        result.level = lastString;
      } else if (isKey(s, ks, ke, 'stage')) {
        end = readString(s, vs);
        result.stage = lastString;
      }
      break;
    case 7:
      if (isKey(s, ks, ke, 'auditID')) {
        end = readString(s, vs);
        result.auditID = lastString;
      }
      break;
    case 9:
      if (isKey(s, ks, ke, 'objectRef')) {
        if (c === 0x7b) end = scanObjectRef(s, vs);
        else {
          attrs.resourceRequest = false;
          attrs.namespace = attrs.apiGroup = attrs.resource = attrs.subresource = attrs.name = '';
        }
      }
      break;
    case 10:
      if (isKey(s, ks, ke, 'requestURI')) {
        end = readString(s, vs);
        requestURI = lastString;
      }
      break;
    case 13:
      if (isKey(s, ks, ke, 'requestObject')) kind = M_REQUEST_OBJECT;
      break;
    case 14:
      if (isKey(s, ks, ke, 'responseObject')) kind = M_RESPONSE_OBJECT;
      break;
  }
  if (end === -2) end = skipValue(s, vs);
  if (end < 0) return -1;
  result.spans.push(ks, vs, end);
  result.kinds.push(kind);
  if (kind >= M_REQUEST_OBJECT) result.bodies++;
  return end;
}

/**
 * Raw key texts whose values decide; an escaped key that decodes to one of them holds `\u` (they are letters).
 * One regular-expression pass: native, much cheaper than walking a large body.
 */
const DECIDING = /"(?:verb|user|objectRef|requestURI|stage|level|auditID)"|\\u/g;

const DECIDING_KEYS = ['verb', 'user', 'objectRef', 'requestURI', 'stage', 'level', 'auditID'];

function isDecidingKey(s: string, m: number): boolean {
  for (const k of DECIDING_KEYS) if (memberKeyIs(s, m, k)) return true;
  return false;
}

/**
 * Nothing at or after `from` can be a top-level key that decides. For the line just parsed the parser's member
 * table lists every top-level key (none escaped): a look at the keys instead of a regex pass over the bodies.
 * Otherwise: none of those texts appears there at all.
 */
function nothingDecidesAfter(s: string, from: number): boolean {
  if (scanned.raw === s) {
    for (let m = 0; m < scanned.count; m++) if (memberKeyStart(m) >= from && isDecidingKey(s, m)) return false;
    return true;
  }
  DECIDING.lastIndex = from;
  return !DECIDING.test(s);
}

/** scanRest from the parser's member table: the members from `at` on, with no walk of the bodies. */
function restFromTable(s: string, at: number): ScannedEvent {
  for (let m = 0; m < scanned.count; m++) {
    if (memberKeyStart(m) < at) continue;
    const kind = memberKeyIs(s, m, 'requestObject') ? M_REQUEST_OBJECT : memberKeyIs(s, m, 'responseObject') ? M_RESPONSE_OBJECT : M_OTHER;
    result.spans.push(memberKeyStart(m), memberValueStart(m), memberValueEnd(m));
    result.kinds.push(kind);
    if (kind !== M_OTHER) result.bodies++;
  }
  return result;
}

/** Scans top-level members from `i` (at a key's quote). With `lazy`, stops at the first body when nothing after it can decide. */
function scanMembers(s: string, i: number, lazy: boolean): ScannedEvent | undefined {
  for (;;) {
    if (s.charCodeAt(i) !== 0x22) return undefined;
    const ks = i;
    const ke = stringEnd(s, i);
    if (ke < 0 || keyHasEscape(s, ks, ke)) return undefined;
    i = skipWs(s, ke);
    if (s.charCodeAt(i) !== 0x3a) return undefined;
    const vs = skipWs(s, i + 1);
    if (lazy && (isKey(s, ks, ke, 'requestObject') || isKey(s, ks, ke, 'responseObject')) && nothingDecidesAfter(s, vs)) {
      result.restAt = ks;
      break;
    }
    const end = topMember(s, ks, ke, vs);
    if (end < 0) return undefined;
    i = skipWs(s, end);
    const c = s.charCodeAt(i);
    if (c === 0x2c) i = skipWs(s, i + 1);
    else if (c === 0x7d) break;
    else return undefined;
  }
  attrs.path = pathOf(requestURI);
  return result;
}

// The API server writes an Event's fields in its Go struct order. Its head (kind … objectRef) as one native match:
// the decision fields are captured with their structure proven, and the general scan is used for anything else.
const STR = '"(?:[^"\\\\]|\\\\.)*"';
const OBJ1 = `\\{(?:[^{}"]|${STR}|\\{(?:[^{}"]|${STR})*\\})*\\}`; // an object with objects one level down (user.extra)
const HEAD = new RegExp(
  '^\\{"kind":"Event","apiVersion":"audit\\.k8s\\.io/v1(?:beta1)?","level":"([A-Za-z]*)","auditID":"([^"\\\\]*)","stage":"([A-Za-z]*)",' +
    `"requestURI":(${STR}),"verb":"([^"\\\\]*)","user":(${OBJ1})(?:,"impersonatedUser":${OBJ1})?(?:,"sourceIPs":\\[(?:[^\\]"]|${STR})*\\])?` +
    `(?:,"userAgent":${STR})?(?:,"objectRef":(\\{(?:[^{}"]|${STR})*\\}))?`,
);

function resetResult(): void {
  attrs.hasUser = false;
  attrs.username = attrs.verb = attrs.namespace = attrs.apiGroup = attrs.resource = attrs.subresource = attrs.name = '';
  attrs.resourceRequest = false;
  groups.length = 0;
  result.stage = result.level = result.auditID = '';
  result.spans.length = 0;
  result.kinds.length = 0;
  result.bodies = 0;
  result.restAt = -1;
  result.levelAt = result.levelEnd = -1;
  requestURI = '';
}

/** The canonical head, when it matches and nothing after it can decide; else undefined (use the general scan). */
function scanHead(raw: string): ScannedEvent | undefined {
  const m = HEAD.exec(raw);
  if (m === null) return undefined;
  const h = m[0].length;
  if (!nothingDecidesAfter(raw, h)) return undefined;
  const uri = m[4]!;
  requestURI = uri.indexOf('\\') === -1 ? uri.slice(1, -1) : (JSON.parse(uri) as string);
  if (scanUser(m[6]!, 0) < 0) return undefined;
  if (m[7] !== undefined && scanObjectRef(m[7], 0) < 0) return undefined;
  result.level = m[1]!;
  result.auditID = m[2]!;
  result.stage = m[3]!;
  attrs.verb = m[5]!;
  result.levelAt = raw.indexOf('"level":"') + 9; // in the fixed prefix: the top-level one
  result.levelEnd = result.levelAt + result.level.length;
  result.spans.push(1, 1, h);
  result.kinds.push(M_HEAD);
  const next = skipWs(raw, h);
  if (raw.charCodeAt(next) === 0x2c) result.restAt = skipWs(raw, next + 1);
  attrs.path = pathOf(requestURI);
  return result;
}

/**
 * Scans `raw` (one JSON object); undefined when the caller must decode it with JSON.parse instead. The decision
 * fields are always complete. The scan may stop before the bodies (`restAt` ≥ 0) when nothing after them can
 * decide: then `spans` lacks the members from there on, and scanRest() adds them when bodies must be cut.
 */
export function scanEvent(raw: string): ScannedEvent | undefined {
  resetResult();
  const fast = scanHead(raw);
  if (fast) return fast;
  resetResult();
  let i = skipWs(raw, 0);
  if (raw.charCodeAt(i) !== 0x7b) return undefined;
  i = skipWs(raw, i + 1);
  if (raw.charCodeAt(i) === 0x7d) {
    attrs.path = '';
    return result;
  }
  return scanMembers(raw, i, true);
}

/** Completes a scan that stopped before the bodies (restAt ≥ 0): every member's span, as a full scan gives. */
export function scanRest(raw: string): ScannedEvent | undefined {
  const at = result.restAt;
  if (at < 0) return result;
  result.restAt = -1;
  // nothing after `at` decides (the lazy scan proved it), so only the bodies' kinds matter there
  if (scanned.raw === raw) return restFromTable(raw, at);
  return scanMembers(raw, at, false);
}
