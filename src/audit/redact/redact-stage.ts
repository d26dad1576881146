import type { Registry } from 'prom-client';
import { tallyByLabel } from '../../observe/counter-tally.js';
import type { ShipEvent } from '../../parse/ship-event.js';
import type { EventContext, EventProcessor } from '../../process/stage.js';
import { isObjectSpan, nestedString, spanString, spliceSpans, type Fields, type Span } from '../json-scan.js';
import { topFields } from '../json-top.js';
import { auditStageMetrics } from '../metrics-registry.js';
import { maskFunction, REDACTED, type Masker } from './masker.js';
import { loadRedactKey, parseRedactList, redactsAnything, type RedactList } from './redact-list.js';
import { redactSecretLike, redactSecretsByKind } from './secrets.js';
import { mayHoldTokenParam, redactTokenField, redactUriTokens } from './tokens.js';

/**
 * The redaction stage (SPEC §6). Walks the parsed bodies, never a pattern over the line: only the top-level
 * values that change (requestObject, responseObject, requestURI) are re-serialised and spliced back, so every
 * other byte of the event is as it was. An event that cannot hold a secret is not parsed at all: its bodies'
 * kinds and objectRef are read by a targeted scan (json-scan.ts).
 *
 * The log gets the marker `__redacted__`: the comma list of the sites replaced (paths, never values), a site
 * ending in `:whole` where a field had an unexpected shape and was replaced whole.
 */

export interface RedactDeps {
  registry: Registry;
}

const BODIES = ['requestObject', 'responseObject'] as const;
const SECRET_KINDS = new Set(['Secret', 'SecretList', 'List']);

interface Contexts {
  secrets: boolean;
  tokenReview: boolean;
  tokenRequest: boolean;
}

/** Which special bodies this request has, from objectRef (resource, subresource). */
function contextsOf(raw: string, top: Fields, list: RedactList): Contexts {
  const ref = top.get('objectRef');
  const resource = nestedString(raw, ref, 'resource');
  return {
    secrets: list.secrets && resource === 'secrets',
    tokenReview: list.tokens && resource === 'tokenreviews',
    tokenRequest: list.tokens && resource === 'serviceaccounts' && nestedString(raw, ref, 'subresource') === 'token',
  };
}

/** The body's own `kind`, read without parsing it (undefined for a body that is not an object or has none). */
function bodyKind(raw: string, span: Span): string | undefined {
  return isObjectSpan(raw, span) ? nestedString(raw, span, 'kind') : undefined;
}

function redactBody(body: unknown, kind: string | undefined, ctx: Contexts, list: RedactList, m: Masker, site: string): unknown {
  let v = body;
  if (ctx.secrets) v = redactSecretLike(v, m, site);
  else if (list.secrets && kind !== undefined && SECRET_KINDS.has(kind)) v = redactSecretsByKind(v, m, site);
  if (ctx.tokenReview || (list.tokens && kind === 'TokenReview')) v = redactTokenField(v, 'spec', m, site);
  if (ctx.tokenRequest || (list.tokens && kind === 'TokenRequest')) v = redactTokenField(v, 'status', m, site);
  return v;
}

function needsBody(kind: string | undefined, ctx: Contexts, list: RedactList): boolean {
  if (ctx.secrets || ctx.tokenReview || ctx.tokenRequest) return true;
  if (kind === undefined) return false;
  return (list.secrets && SECRET_KINDS.has(kind)) || (list.tokens && (kind === 'TokenReview' || kind === 'TokenRequest'));
}

/**
 * Can a body of this line say `kind: Secret` (SecretList, List) or TokenReview/TokenRequest? Those words cannot be
 * written without their letters except through `\\u` escapes (simple escapes make no letters), so a line with
 * neither needs no look at its bodies: the lookup of the bodies would walk the whole line.
 */
function mayHoldSpecialKind(raw: string, list: RedactList): boolean {
  if (raw.indexOf('\\u') >= 0) return true;
  if (list.secrets && (raw.indexOf('Secret') >= 0 || raw.indexOf('List') >= 0)) return true;
  return list.tokens && raw.indexOf('Token') >= 0;
}

/** A line that is not a JSON object (cut by --max-line-bytes, or not JSON): it cannot be walked. */
const MAY_HOLD_SECRET = /secret|token|\\u|%/i;

export interface Redactor {
  (event: ShipEvent, ctx: EventContext): ShipEvent;
}

/** Redaction of one event with a given list and key; returns the same event when nothing was redacted. */
export function createRedactor(list: RedactList, key: Buffer | undefined, onRedacted?: (ctx: EventContext) => void): Redactor {
  const mask = maskFunction(key);
  return (event, ectx) => {
    const sites = new Set<string>();
    const m: Masker = { mask, note: (s) => sites.add(s) };
    let raw: string | undefined;
    if (!event.isObject) {
      // when in doubt, the whole line: a cut Secret body cannot be told apart from the rest of the line
      if ((event.markers?.__truncated__ || event.markers?.__parse_error__) && MAY_HOLD_SECRET.test(event.raw)) {
        raw = mask(event.raw);
        sites.add('content:whole');
      }
    } else {
      raw = redactObjectLine(event.raw, list, m);
    }
    if (raw === undefined || sites.size === 0) return event;
    onRedacted?.(ectx);
    return { ...event, raw, markers: { ...event.markers, __redacted__: [...sites].join(',') } };
  };
}

function redactObjectLine(raw: string, list: RedactList, m: Masker): string | undefined {
  const top = topFields(raw);
  if (!top) return undefined;
  const ctx = contextsOf(raw, top, list);
  const edits: Array<{ span: Span; text: string }> = [];
  const bodies = ctx.secrets || ctx.tokenReview || ctx.tokenRequest || mayHoldSpecialKind(raw, list);
  for (const name of bodies ? BODIES : []) {
    const span = top.get(name);
    if (!span) continue;
    const kind = bodyKind(raw, span);
    if (!needsBody(kind, ctx, list)) continue;
    const body: unknown = JSON.parse(raw.slice(span.start, span.end));
    const out = redactBody(body, kind, ctx, list, m, name);
    if (out !== body) edits.push({ span, text: JSON.stringify(out) });
  }
  if (list.tokens) {
    const span = top.get('requestURI');
    const uri = spanString(raw, span);
    if (uri !== undefined && mayHoldTokenParam(uri)) {
      const out = redactUriTokens(uri, m);
      if (out !== uri) edits.push({ span: span!, text: JSON.stringify(out) });
    }
  }
  return edits.length === 0 ? undefined : spliceSpans(raw, edits);
}

/**
 * `--redact LIST` / `?redact=LIST` with `--redact-key FILE`: the stage, or undefined when the list is off.
 * Throws TailshipError (REDACT_LIST_INVALID, REDACT_KEY_UNREADABLE) for a bad list or key file.
 */
export function createRedactStage(list: string | RedactList | undefined, keyFile: string | undefined, deps: RedactDeps): EventProcessor | undefined {
  const parsed = typeof list === 'object' ? list : parseRedactList(list);
  if (!redactsAnything(parsed)) return undefined;
  const key = keyFile ? loadRedactKey(keyFile) : undefined;
  const redactedOf = tallyByLabel(auditStageMetrics(deps.registry).redacted, 'input');
  return createRedactor(parsed, key, (ctx) => redactedOf(ctx.inputKey).n++);
}

export { REDACTED };
