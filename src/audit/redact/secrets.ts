import { isObj, maskAny, withKey, type Masker, type Obj } from './masker.js';

/**
 * `--redact secrets` (SPEC §6): every value under `data` and `stringData` of a Secret, of each item of a
 * SecretList, and the same keys inside the JSON of the `kubectl.kubernetes.io/last-applied-configuration`
 * annotation (re-serialised). Also the shapes a Secret takes in audit bodies besides the object itself: merge
 * patches (no kind), JSON patches (an array of operations), Tables (`kubectl get secrets`: rows[].object with
 * the annotation) and metadata-only lists. Functions return the same value when nothing changed.
 */

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const SECRET_KINDS = new Set(['Secret', 'SecretList']);

/** A body outside a secrets request: only objects that say they are Secrets (or a List holding some). */
export function redactSecretsByKind(body: unknown, m: Masker, site: string): unknown {
  if (!isObj(body)) return body;
  if (typeof body.kind === 'string' && SECRET_KINDS.has(body.kind)) return redactSecretLike(body, m, site);
  if (body.kind === 'List' && Array.isArray(body.items)) {
    let changed = false;
    const items = body.items.map((item) => {
      if (!isObj(item) || typeof item.kind !== 'string' || !SECRET_KINDS.has(item.kind)) return item;
      const out = redactSecretLike(item, m, `${site}.items[]`);
      if (out !== item) changed = true;
      return out;
    });
    return changed ? { ...body, items } : body;
  }
  return body;
}

/** A body of a request on `secrets`: whatever it is, nothing of a secret value may survive. */
export function redactSecretLike(v: unknown, m: Masker, site: string): unknown {
  if (v === null || v === undefined) return v;
  if (Array.isArray(v)) return redactArray(v, m, site);
  if (!isObj(v)) {
    m.note(`${site}:whole`);
    return maskAny(m, v);
  }
  let out: Obj = v;
  for (const k of ['data', 'stringData']) {
    if (!(k in v)) continue;
    const nv = redactDataMap(v[k], m, `${site}.${k}`);
    if (nv !== v[k]) out = withKey(v, out, k, nv);
  }
  if ('metadata' in v) {
    const nv = redactMetadata(v.metadata, m, `${site}.metadata`);
    if (nv !== v.metadata) out = withKey(v, out, 'metadata', nv);
  }
  if ('items' in v && v.items !== null) {
    const nv = Array.isArray(v.items) ? redactArray(v.items, m, `${site}.items[]`, true) : whole(v.items, m, `${site}.items`);
    if (nv !== v.items) out = withKey(v, out, 'items', nv);
  }
  if (Array.isArray(v.rows)) {
    const nv = redactTableRows(v.rows, m, `${site}.rows[]`);
    if (nv !== v.rows) out = withKey(v, out, 'rows', nv);
  }
  return out;
}

function whole(v: unknown, m: Masker, site: string): unknown {
  m.note(`${site}:whole`);
  return maskAny(m, v);
}

/** `data` / `stringData`: each value masked; a map that is not an object is masked whole. */
function redactDataMap(v: unknown, m: Masker, site: string): unknown {
  if (v === null || v === undefined) return v;
  if (!isObj(v)) return whole(v, m, site);
  const out: Obj = {};
  let odd = false;
  let masked = 0;
  for (const [k, val] of Object.entries(v)) {
    if (val === null) out[k] = null;
    else {
      out[k] = typeof val === 'string' ? m.mask(val) : maskAny(m, val);
      if (typeof val !== 'string') odd = true;
      masked++;
    }
  }
  if (masked === 0) return v;
  m.note(odd ? `${site}:whole` : site);
  return out;
}

function redactMetadata(v: unknown, m: Masker, site: string): unknown {
  if (!isObj(v) || !('annotations' in v) || v.annotations === null || v.annotations === undefined) return v;
  const ann = v.annotations;
  if (!isObj(ann)) return { ...v, annotations: whole(ann, m, `${site}.annotations`) };
  const nv = redactAnnotationMap(ann, m, `${site}.annotations`);
  return nv === ann ? v : { ...v, annotations: nv };
}

function redactAnnotationMap(ann: Obj, m: Masker, site: string): Obj {
  if (!(LAST_APPLIED in ann)) return ann;
  const nv = redactLastApplied(ann[LAST_APPLIED], m, `${site}.last-applied-configuration`);
  return nv === ann[LAST_APPLIED] ? ann : { ...ann, [LAST_APPLIED]: nv };
}

/** The annotation is the JSON of the object as applied: redact inside it and write it back the way kubectl does. */
export function redactLastApplied(v: unknown, m: Masker, site: string): unknown {
  if (v === null || v === undefined) return v;
  if (typeof v !== 'string') return whole(v, m, site);
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    return whole(v, m, site);
  }
  if (!isObj(parsed) && !Array.isArray(parsed)) return whole(v, m, site);
  const nv = redactSecretLike(parsed, m, site);
  if (nv === parsed) return v;
  return JSON.stringify(nv) + (v.endsWith('\n') ? '\n' : '');
}

/** Table rows (`kubectl get secrets`): each row's object is metadata that may hold the annotation. */
function redactTableRows(rows: unknown[], m: Masker, site: string): unknown[] {
  let changed = false;
  const out = rows.map((row) => {
    if (!isObj(row) || !('object' in row)) return row;
    const nv = redactSecretLike(row.object, m, `${site}.object`);
    if (nv === row.object) return row;
    changed = true;
    return { ...row, object: nv };
  });
  return changed ? out : rows;
}

/**
 * An array in a secrets request: a JSON patch (operations with `op` and `path`), or a list of secrets. An
 * element that is neither an operation nor an object is masked whole.
 */
function redactArray(arr: unknown[], m: Masker, site: string, items = false): unknown[] {
  let changed = false;
  const out = arr.map((el) => {
    let nv: unknown;
    if (!items && isObj(el) && typeof el.op === 'string') nv = redactPatchOp(el, m, `${site}[]`);
    else if (isObj(el) || el === null) nv = redactSecretLike(el, m, items ? site : `${site}[]`);
    else nv = whole(el, m, items ? site : `${site}[]`);
    if (nv !== el) changed = true;
    return nv;
  });
  return changed ? out : arr;
}

/** RFC 6902 operation on a Secret: mask `value` wherever the path reaches data, stringData or the annotation. */
function redactPatchOp(op: Obj, m: Masker, site: string): Obj {
  if (!('value' in op)) return op;
  const path = typeof op.path === 'string' ? op.path : undefined;
  const value = op.value;
  let nv: unknown = value;
  if (path === undefined) nv = whole(value, m, `${site}.value`);
  else if (path === '' || path === '/' || path === '/metadata') nv = path === '/metadata' ? redactMetadata(value, m, `${site}.value`) : redactSecretLike(value, m, `${site}.value`);
  else if (path === '/data' || path === '/stringData') nv = redactDataMap(value, m, `${site}.value`);
  else if (path.startsWith('/data/') || path.startsWith('/stringData/')) {
    if (typeof value === 'string') {
      nv = m.mask(value);
      m.note(`${site}.value`);
    } else if (value !== null) nv = whole(value, m, `${site}.value`);
  } else if (path === '/metadata/annotations') nv = isObj(value) ? redactAnnotationMap(value, m, `${site}.value`) : value === null ? value : whole(value, m, `${site}.value`);
  else if (path === `/metadata/annotations/${LAST_APPLIED.replace(/~/g, '~0').replace(/\//g, '~1')}`) nv = redactLastApplied(value, m, `${site}.value`);
  return nv === value ? op : { ...op, value: nv };
}
