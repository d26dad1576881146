/**
 * The audit-metrics facts of the line just parsed, read from the parser's member table in one pass over its
 * top-level members: no Span objects, no arrays, one reused result (the metrics stage is synchronous and keeps
 * nothing of it). Undefined when the table does not describe `raw` or a value needs decoding (an escape): the
 * caller then reads the same facts through topFields, which gives the same answer the slower way.
 * Duplicate keys keep the first occurrence, as TopLevel does.
 */
import { memberKeyLength, memberKeyStart, memberValueEnd, memberValueStart, plainString, scanned } from '../parse/top-members.js';
import { decodeString, findKey, skipWs, spanNumber, stringEnd, valueEnd } from './json-scan.js';

/** What the metrics need of one event, read without JSON.parse. */
export interface AuditFacts {
  verb?: string;
  stage?: string;
  username?: string;
  code?: number;
  resource?: string;
  subresource?: string;
  apiGroup?: string;
}

/** The facts with the two timestamps' texts (the walk reads those separately, from the end). */
export interface TableFacts extends AuditFacts {
  received?: string;
  stageTs?: string;
}

const facts: TableFacts = {};

/** objectRef's resource, subresource and apiGroup in one walk; false when a key or value needs decoding. */
function readObjectRef(raw: string, start: number): boolean {
  if (raw.charCodeAt(start) !== 0x7b) return true; // not an object: no values
  let i = skipWs(raw, start + 1);
  if (raw.charCodeAt(i) === 0x7d) return true;
  let seen = 0;
  for (;;) {
    const ks = i;
    const ke = stringEnd(raw, ks);
    const key = decodeString(raw, ks, ke);
    i = skipWs(raw, ke);
    i = skipWs(raw, i + 1); // past ':' (the line was validated)
    const ve = valueEnd(raw, i);
    const bit = key === 'resource' ? 1 : key === 'subresource' ? 2 : key === 'apiGroup' ? 4 : 0;
    if (bit !== 0 && (seen & bit) === 0) {
      seen |= bit;
      const v = plainString(raw, i, ve);
      if (v === null) return false;
      if (bit === 1) facts.resource = v;
      else if (bit === 2) facts.subresource = v;
      else facts.apiGroup = v;
      if (seen === 7) return true;
    }
    i = skipWs(raw, ve);
    if (raw.charCodeAt(i) === 0x7d) return true;
    i = skipWs(raw, i + 1);
  }
}

const VERB = 1;
const STAGE = 2;
const USER = 4;
const REF = 8;
const STATUS = 16;
const RECEIVED = 32;
const STAGE_TS = 64;

/** Which of the members the metrics read a top-level key is (by length first: one compare per member). */
function keyBit(raw: string, ks: number, len: number): number {
  const at = ks + 1;
  switch (len) {
    case 4:
      return raw.startsWith('verb', at) ? VERB : raw.startsWith('user', at) ? USER : 0;
    case 5:
      return raw.startsWith('stage', at) ? STAGE : 0;
    case 9:
      return raw.startsWith('objectRef', at) ? REF : 0;
    case 14:
      return raw.startsWith('responseStatus', at) ? STATUS : raw.startsWith('stageTimestamp', at) ? STAGE_TS : 0;
    case 24:
      return raw.startsWith('requestReceivedTimestamp', at) ? RECEIVED : 0;
    default:
      return 0;
  }
}

export function tableFacts(raw: string): TableFacts | undefined {
  if (scanned.raw !== raw) return undefined;
  facts.verb = facts.stage = facts.received = facts.stageTs = undefined;
  facts.username = facts.resource = facts.subresource = facts.apiGroup = facts.code = undefined;
  let seen = 0;
  let status = -1;
  for (let m = 0, n = scanned.count; m < n; m++) {
    const bit = keyBit(raw, memberKeyStart(m), memberKeyLength(m));
    if (bit === 0 || (seen & bit) !== 0) continue; // the first occurrence counts, as TopLevel
    seen |= bit;
    const vs = memberValueStart(m);
    if (bit === USER) {
      if (raw.charCodeAt(vs) !== 0x7b) continue;
      const span = findKey(raw, vs, 'username');
      const name = span ? plainString(raw, span.start, span.end) : undefined;
      if (name === null) return undefined;
      facts.username = name;
    } else if (bit === REF) {
      if (!readObjectRef(raw, vs)) return undefined;
    } else if (bit === STATUS) {
      status = vs;
    } else {
      const v = plainString(raw, vs, memberValueEnd(m));
      if (v === null) return undefined;
      if (bit === VERB) facts.verb = v;
      else if (bit === STAGE) facts.stage = v;
      else if (bit === RECEIVED) facts.received = v;
      else facts.stageTs = v;
    }
  }
  // a RequestReceived event has no response yet
  if (status >= 0 && facts.stage !== 'RequestReceived' && raw.charCodeAt(status) === 0x7b) facts.code = spanNumber(raw, findKey(raw, status, 'code'));
  return facts;
}
