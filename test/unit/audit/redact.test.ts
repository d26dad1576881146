import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { topFields } from '../../../src/audit/json-top.js';
import { createRedactStage } from '../../../src/audit/redact/redact-stage.js';
import { ErrorCodes, TailshipError } from '../../../src/errors.js';
import type { ShipEvent } from '../../../src/parse/ship-event.js';
import type { EventProcessor } from '../../../src/process/stage.js';
import { ctxOf, diffs, eventOf, fixtureLines, realAuditLines, single } from './support.js';

const SECRETS = fixtureLines('audit-redact/secrets.ndjson');
const BAD = fixtureLines('audit-redact/bad-shapes.ndjson');
const REDACTED = '[REDACTED]';

/** Every planted value of a line, as text and as the base64 the API server stores it in. */
function planted(line: string): string[] {
  const texts = new Set<string>();
  for (const m of JSON.parse(JSON.stringify(line)).matchAll(/PLANTED-[A-Za-z0-9.-]*[A-Za-z0-9]/g)) texts.add(m[0]);
  // base64 data: decode every base64-looking string of the event and its annotations
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      const d = Buffer.from(v, 'base64').toString('utf8');
      for (const m of d.matchAll(/PLANTED-[A-Za-z0-9.-]*[A-Za-z0-9]/g)) texts.add(m[0]);
      try {
        walk(JSON.parse(v));
      } catch {
        /* not JSON */
      }
    } else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x);
  };
  walk(JSON.parse(line));
  return [...texts].flatMap((t) => [t, Buffer.from(t).toString('base64'), Buffer.from(t).toString('base64').replace(/=+$/, '')]);
}

function outputText(e: ShipEvent): string {
  return `${e.raw}\n${JSON.stringify(e.markers ?? {})}`;
}

const stageOf = (list: string, key?: string, registry = new Registry()): EventProcessor => {
  const s = createRedactStage(list, key, { registry });
  if (!s) throw new Error('stage is off');
  return s;
};

/** The query parameters of a URI as [name, value] pairs. */
function params(uri: string): string[][] {
  const q = uri.indexOf('?');
  return q < 0 ? [] : uri.slice(q + 1).split('&').map((p) => p.split('='));
}

let tmp: string | undefined;
afterEach(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  tmp = undefined;
});

describe('--redact all on real audit events', () => {
  test('an event that holds no secret is returned as is, and is not parsed', () => {
    const stage = stageOf('all');
    const lines = realAuditLines();
    expect(lines.length).toBeGreaterThan(40);
    const events = lines.map(({ line }) => eventOf(line));
    const parse = vi.spyOn(JSON, 'parse');
    try {
      for (const [i, e] of events.entries()) expect(stage(e, ctxOf()), lines[i]!.name).toBe(e);
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });
});

describe('--redact all on Secret, SecretList, TokenReview, TokenRequest and exec events', () => {
  test.each(SECRETS.map((line, i) => [i + 1, line] as const))('event %i: no planted value anywhere in the output, every other field as it was', (_n, line) => {
    const input = eventOf(line);
    expect(input.isObject).toBe(true);
    const values = planted(line);
    expect(values.length).toBeGreaterThan(0);
    const out = single(stageOf('all')(input, ctxOf()));
    expect(out).not.toBe(input);
    expect(input.raw).toBe(line); // never mutates its argument
    const text = outputText(out);
    for (const v of values) expect(text.includes(v), `planted ${v} leaked`).toBe(false);
    expect(out.markers?.__redacted__).toBeTruthy();

    const before = JSON.parse(line) as Record<string, unknown>;
    const after = JSON.parse(out.raw) as Record<string, unknown>;
    for (const d of diffs(before, after)) {
      if (d.path === 'requestURI') {
        const pb = params(JSON.parse(JSON.stringify(before.requestURI)) as string);
        const pa = params(after.requestURI as string);
        expect(pa.map((p) => p[0])).toEqual(pb.map((p) => p[0]));
        for (const [i, [name, value]] of pa.entries()) {
          if (['token', 'access_token', 'id_token'].includes(name!)) expect(value).toBe(REDACTED);
          else expect(value).toBe(pb[i]![1]);
        }
        continue;
      }
      expect(d.after, `${d.path} changed to something that is not a mask`).toBe(REDACTED);
    }
    // top-level values other than the bodies and requestURI keep their bytes
    const tb = topFields(line)!.all();
    const ta = topFields(out.raw)!.all();
    for (const [k, span] of tb) {
      if (['requestObject', 'responseObject', 'requestURI'].includes(k)) continue;
      const s2 = ta.get(k)!;
      expect(out.raw.slice(s2.start, s2.end), k).toBe(line.slice(span.start, span.end));
    }
    expect([...ta.keys()]).toEqual([...tb.keys()]);
    expect(out.time).toBe(input.time);
  });

  test('the ConfigMap of a mixed List keeps its data; the Secret beside it does not', () => {
    const line = SECRETS.find((l) => l.includes('visible-config-value'))!;
    const out = single(stageOf('secrets')(eventOf(line), ctxOf()));
    const items = (JSON.parse(out.raw) as { requestObject: { items: Array<{ data: Record<string, string> }> } }).requestObject.items;
    expect(items[0]!.data.k).toBe(REDACTED);
    expect(items[1]!.data.k).toBe('visible-config-value');
  });

  test('the last-applied-configuration annotation is re-serialised with its trailing newline and without the values', () => {
    const out = single(stageOf('secrets')(eventOf(SECRETS[1]!), ctxOf()));
    const ann = (JSON.parse(out.raw) as { responseObject: { metadata: { annotations: Record<string, string> } } }).responseObject.metadata.annotations;
    const la = ann['kubectl.kubernetes.io/last-applied-configuration']!;
    expect(la.endsWith('\n')).toBe(true);
    expect(JSON.parse(la)).toMatchObject({ kind: 'Secret', data: { password: REDACTED }, metadata: { name: 'db' } });
    expect(ann['team.example.com/owner']).toBe('payments');
    expect(out.markers?.__redacted__).toContain('responseObject.metadata.annotations.last-applied-configuration.data');
  });

  test('--redact secrets leaves tokens; --redact tokens leaves Secret data', () => {
    const review = SECRETS.find((l) => l.includes('tokenreviews'))!;
    const get = SECRETS[1]!;
    expect(stageOf('secrets')(eventOf(review), ctxOf())).toMatchObject({ raw: review });
    expect(stageOf('tokens')(eventOf(get), ctxOf())).toMatchObject({ raw: get });
    expect(single(stageOf('tokens')(eventOf(review), ctxOf())).raw).not.toContain('PLANTED');
    expect(single(stageOf('secrets,tokens')(eventOf(get), ctxOf())).raw).not.toContain(Buffer.from('PLANTED-db-password-1').toString('base64'));
  });

  test('with --redact-key: hmac-sha256 of the value as it stands (base64 for data), keyed with the file less one newline', () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'redact-key-'));
    const keyFile = path.join(tmp, 'key');
    fs.writeFileSync(keyFile, 'k3y-bytes\n');
    const out = single(stageOf('all', keyFile)(eventOf(SECRETS[0]!), ctxOf()));
    const ev = JSON.parse(out.raw) as { requestObject: { data: Record<string, string>; stringData: Record<string, string> }; responseObject: { data: Record<string, string> } };
    const hmac = (v: string) => `hmac-sha256:${createHmac('sha256', 'k3y-bytes').update(v).digest('hex')}`;
    const b64 = Buffer.from('PLANTED-db-password-1').toString('base64');
    expect(ev.requestObject.data.password).toBe(hmac(b64));
    expect(ev.responseObject.data.password).toBe(ev.requestObject.data.password); // equal values stay comparable
    expect(ev.requestObject.stringData['api-key']).toBe(hmac('PLANTED-api-key-2'));
    expect(out.raw).not.toContain('k3y-bytes');
  });

  test('the tokens of exec and watch URIs, with & written \\u0026 in the line', () => {
    const exec = SECRETS.find((l) => l.includes('/exec?'))!;
    expect(exec).toContain('\\u0026access_token=PLANTED');
    const out = single(stageOf('tokens')(eventOf(exec), ctxOf()));
    expect((JSON.parse(out.raw) as { requestURI: string }).requestURI).toBe('/api/v1/namespaces/default/pods/web-0/exec?command=sh&container=web&stdin=true&tty=true&access_token=[REDACTED]');
    expect(out.markers?.__redacted__).toBe('requestURI.access_token');
  });

  test('counts tailship_events_redacted_total{input}', async () => {
    const registry = new Registry();
    const stage = stageOf('all', undefined, registry);
    for (const l of SECRETS) stage(eventOf(l), ctxOf({ inputKey: 'audit-x' }));
    stage(eventOf(realAuditLines()[0]!.line), ctxOf({ inputKey: 'audit-x' }));
    const text = await registry.metrics();
    expect(text).toContain(`tailship_events_redacted_total{input="audit-x"} ${SECRETS.length}`);
  });
});

describe('bad input: handled without a crash, a drop or a leak', () => {
  test.each(BAD.map((line, i) => [i + 1, line] as const))('bad shape %i is redacted whole and tagged', (_n, line) => {
    const input = eventOf(line);
    const out = single(stageOf('all')(input, ctxOf()));
    const text = outputText(out);
    for (const v of planted(line)) expect(text.includes(v), `planted ${v} leaked`).toBe(false);
    expect(out.markers?.__redacted__).toMatch(/:whole/);
    expect(out.isObject).toBe(true);
    const before = JSON.parse(line) as Record<string, unknown>;
    const after = JSON.parse(out.raw) as Record<string, unknown>;
    for (const d of diffs(before, after)) expect(d.after, d.path).toBe(REDACTED);
  });

  test('a line cut by --max-line-bytes that may hold a secret is masked whole; one that cannot is kept', () => {
    const cut: ShipEvent = { raw: SECRETS[1]!.slice(0, 900), isObject: false, time: 1, timeNs: 0, markers: { __truncated__: 'true' } };
    const out = single(stageOf('all')(cut, ctxOf()));
    expect(out.raw).toBe(REDACTED);
    expect(out.markers).toEqual({ __truncated__: 'true', __redacted__: 'content:whole' });
    const harmless: ShipEvent = { raw: '{"kind":"Event","verb":"get","requestURI":"/healthz', isObject: false, time: 1, timeNs: 0, markers: { __truncated__: 'true' } };
    expect(stageOf('all')(harmless, ctxOf())).toBe(harmless);
    const text: ShipEvent = { raw: 'a plain text line about a secret', isObject: false, time: 1, timeNs: 0 };
    expect(stageOf('all')(text, ctxOf())).toBe(text);
  });

  test('keys written with escapes are still found', () => {
    const line = SECRETS[1]!.replace('"responseObject"', '"response\\u004fbject"').replace('"objectRef"', '"object\\u0052ef"');
    expect(JSON.parse(line).responseObject).toBeDefined();
    const out = single(stageOf('secrets')(eventOf(line), ctxOf()));
    for (const v of planted(line)) expect(out.raw.includes(v), v).toBe(false);
  });
});

describe('createRedactStage', () => {
  test('off, empty and undefined are no stage at all', () => {
    for (const l of ['off', '', undefined, 'none']) expect(createRedactStage(l, undefined, { registry: new Registry() })).toBeUndefined();
  });

  test('an unknown item and an unreadable or empty key file are errors with stable codes', () => {
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof TailshipError ? e.code : String(e);
      }
      return undefined;
    };
    expect(codeOf(() => createRedactStage('secrets,passwords', undefined, { registry: new Registry() }))).toBe(ErrorCodes.REDACT_LIST_INVALID);
    expect(codeOf(() => createRedactStage('all', '/nonexistent/key', { registry: new Registry() }))).toBe(ErrorCodes.REDACT_KEY_UNREADABLE);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'redact-key-'));
    fs.writeFileSync(path.join(tmp, 'empty'), '\n');
    expect(codeOf(() => createRedactStage('all', path.join(tmp!, 'empty'), { registry: new Registry() }))).toBe(ErrorCodes.REDACT_KEY_UNREADABLE);
  });
});
