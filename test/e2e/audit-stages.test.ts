// The audit stages through the real agent (`node dist/cli.js run`): --redact all and --max-event-bytes 1M on a log
// of Secret/token events, bad shapes, real events and a 20 MB RequestResponse event, shipped to the HTTP store and
// to SLS. Only outside observations: what the stores received.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { afterEach, expect, test } from 'vitest';
import { createWorkspace, killAllAgents, type Workspace } from '../helpers/agent-process.js';
import { startFakeHttpStore, type FakeHttpStore } from '../helpers/fake-http-store.js';
import { startFakeSls, type FakeSls } from '../helpers/fake-sls.js';
import { bigEvent, fixtureLines, realAuditLines } from '../unit/audit/support.js';

let ws: Workspace | undefined;
let store: FakeHttpStore | undefined;
let sls: FakeSls | undefined;
afterEach(async () => {
  await killAllAgents();
  await store?.close();
  await sls?.close();
  ws?.cleanup();
  store = sls = ws = undefined;
});

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const SECRET_LINES = [...fixtureLines('audit-redact/secrets.ndjson'), ...fixtureLines('audit-redact/bad-shapes.ndjson')];
const BIG = bigEvent(20);

/** The planted values of the fixtures, as text and base64 (how data holds them). */
function plantedValues(): string[] {
  const out = new Set<string>();
  const text = SECRET_LINES.join('\n');
  const add = (s: string) => {
    for (const m of s.matchAll(/PLANTED-[A-Za-z0-9.-]*[A-Za-z0-9]/g)) out.add(m[0]);
  };
  add(text);
  for (const m of text.matchAll(/"([A-Za-z0-9+/]{16,}={0,2})"/g)) add(Buffer.from(m[1]!, 'base64').toString('utf8'));
  return [...out].flatMap((v) => [v, Buffer.from(v).toString('base64').replace(/=+$/, '')]);
}

/** The expected trim marker of the 20 MB event: its response body without managedFields, compact. */
function expectedMarker(): { bytes: number; sha256: string } {
  const o = JSON.parse(BIG) as { responseObject: { metadata: Record<string, unknown> } };
  const { managedFields: _m, ...meta } = o.responseObject.metadata;
  const body = JSON.stringify({ ...o.responseObject, metadata: meta });
  return { bytes: Buffer.byteLength(body), sha256: sha(body) };
}

function writeLog(w: Workspace): string[] {
  const lines = [...SECRET_LINES, ...realAuditLines().filter((l) => l.name !== 'apisnoop').map((l) => l.line), BIG];
  fs.writeFileSync(w.activePath, `${lines.join('\n')}\n`);
  return lines;
}

const ARGS = ['--redact', 'all', '--max-event-bytes', '1M', '--max-line-bytes', '32M', '--max-inflight-bytes', '64M', '--exit-when-idle'];

test('HTTP store: no planted value anywhere, the 20 MB event arrives trimmed and marked, every log has __event_id__', async () => {
  ws = createWorkspace('audit-stages-http');
  store = await startFakeHttpStore();
  const lines = writeLog(ws);
  const agent = ws.start(['--sink', store.url, ...ARGS]);
  const exit = await agent.waitExit(90_000);
  expect(exit.code, agent.stderrTail()).toBe(0);
  const logs = store.logs();
  expect(logs).toHaveLength(lines.length);
  const all = JSON.stringify(store.received.map((b) => b.body));
  for (const v of plantedValues()) expect(all.includes(v), `planted ${v} reached the store`).toBe(false);
  for (const log of logs) expect((log.__tag__ as Record<string, string>).__event_id__).toMatch(/^[0-9a-f]{64}$/);

  const big = logs.find((l) => l.auditID === 'big-1')!;
  expect(Buffer.byteLength(JSON.stringify(big))).toBeLessThan(1024 * 1024 + 1000);
  expect(big.responseObject).toEqual({ __trimmed__: expectedMarker() });
  expect((big.__tag__ as Record<string, string>).__trimmed__).toBe('managedFields,responseObject');
  expect((big.__tag__ as Record<string, string>).__event_id__).toBe(sha('/big-1/ResponseComplete'));
  const redacted = logs.filter((l) => (l.__tag__ as Record<string, string>).__redacted__);
  expect(redacted).toHaveLength(SECRET_LINES.length);
}, 120_000);

test('SLS: the same through PutLogs; __event_id__ is a content key, the trimmed body a marker', async () => {
  ws = createWorkspace('audit-stages-sls');
  sls = await startFakeSls();
  const lines = writeLog(ws);
  const agent = ws.start(['--sink', `${sls.url}?project=p`, ...ARGS], { env: { ...sls.env, TAILSHIP_CLUSTER_ID: 'prod-1' } });
  const exit = await agent.waitExit(90_000);
  expect(exit.code, agent.stderrTail()).toBe(0);
  expect(sls.problems).toEqual([]);
  const logs = sls.logGroups.flatMap((g) => g.logGroup.Logs.map((l) => ({ tags: Object.fromEntries(g.logGroup.LogTags.map((t) => [t.Key, t.Value])), c: Object.fromEntries(l.Contents.map((x) => [x.Key, x.Value])) })));
  expect(logs).toHaveLength(lines.length);
  const all = JSON.stringify(sls.logGroups.map((g) => g.logGroup));
  for (const v of plantedValues()) expect(all.includes(v), `planted ${v} reached SLS`).toBe(false);
  for (const { c, tags } of logs) {
    expect(c.__event_id__).toMatch(/^[0-9a-f]{64}$/);
    expect(tags.__event_id__).toBeUndefined();
  }
  const big = logs.find((l) => l.c.auditID === 'big-1')!;
  expect(JSON.parse(big.c.responseObject!)).toEqual({ __trimmed__: expectedMarker() });
  expect(big.tags.__trimmed__).toBe('managedFields,responseObject');
  expect(big.c.__event_id__).toBe(sha('prod-1/big-1/ResponseComplete'));
  // one LogGroup holds many logs: the per-log id did not split the batch into one request per log
  expect(sls.logGroups.length).toBeLessThan(lines.length / 2);
}, 120_000);
