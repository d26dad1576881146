import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Batch } from '../../src/batch/batch.js';
import type { Sink } from '../../src/deliver/sink.js';
import { SinkError } from '../../src/deliver/sink.js';
import { ErrorCodes as E } from '../../src/errors.js';
import { createSlsSink } from '../../src/deliver/sinks/sls/sls-sink.js';
import { silentLogger } from '../../src/observe/log.js';
import { createMetrics } from '../../src/observe/metrics.js';
import type { ShipEvent } from '../../src/parse/ship-event.js';
import {
  expectedContents,
  makeBatch,
  shipEventsFromFixture,
  startFakeSls,
  type FakeSls,
  type FakeSlsOptions,
  type ReceivedLogGroup,
} from '../helpers/fake-sls.js';

const FIXTURES = ['apisnoop-example-user-agent.log', 'cks-prep-p.auster.ndjson', 'falco-k8s_audit.ndjson'];

let fake: FakeSls | undefined;
const sinks: Sink[] = [];
afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close();
  await fake?.close();
  fake = undefined;
});

async function setup(
  opts: FakeSlsOptions = {},
  params = 'project=p',
  env: NodeJS.ProcessEnv | undefined = undefined,
): Promise<{ fake: FakeSls; sink: Sink }> {
  fake = await startFakeSls(opts);
  const sink = createSlsSink(new URL(`${fake.url}?${params}`), { logger: silentLogger(), env: env ?? fake.env });
  sinks.push(sink);
  return { fake, sink };
}

async function sendError(sink: Sink, batch: Batch): Promise<SinkError> {
  const err = await sink.send(batch).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SinkError);
  return err as SinkError;
}

function tagsOf(g: ReceivedLogGroup): Record<string, string> {
  return Object.fromEntries(g.logGroup.LogTags.map((t) => [t.Key, t.Value]));
}

/** Every event of the batch arrived once, in order, with its contents and time. */
function expectArrived(groups: ReceivedLogGroup[], events: ShipEvent[]): void {
  const logs = groups.flatMap((g) => g.logGroup.Logs);
  expect(logs).toHaveLength(events.length);
  logs.forEach((log, i) => {
    const ev = events[i]!;
    expect(log.Time).toBe(ev.time);
    expect(log.Time_ns).toBe(ev.timeNs);
    expect(log.Contents.map((c) => [c.Key, c.Value])).toEqual(expectedContents(ev));
  });
}

describe('SLS sink → PutLogs (real HTTP, signature and MD5 checked, protobufjs decoding)', () => {
  it.each(['lz4', 'deflate', 'none'])('ships every event of real audit logs with contents, time and tags (%s)', async (compress) => {
    const { fake, sink } = await setup({}, `project=fallback&compress=${compress}`);
    for (const name of FIXTURES) {
      const events = shipEventsFromFixture(name);
      const batch = makeBatch(events, { project: 'k8s-log-c0123', tags: { audit: 'apiserver', __hostname__: 'node-7', __path__: `/var/log/${name}` } });
      const before = fake.logGroups.length;
      await sink.send(batch);
      const groups = fake.logGroups.slice(before);
      expectArrived(groups, events);
      for (const g of groups) {
        expect(g.project).toBe('k8s-log-c0123');
        expect(g.logstore).toBe(batch.logstore);
        expect(g.compressType).toBe(compress === 'none' ? '' : compress);
        expect(g.logGroup.Source).toBe('node-1');
        const tags = tagsOf(g);
        expect(tags).toMatchObject({ audit: 'apiserver', __hostname__: 'node-7', __path__: `/var/log/${name}` });
        expect(tags.__pack_id__).toMatch(/^[0-9A-F]{16}-[0-9A-F]+$/);
      }
    }
    expect(fake.problems).toEqual([]);
    // Audit fields the k8s-audit dashboards query arrive as JSON text.
    const someAudit = fake.logGroups[1]!.logGroup.Logs[0]!;
    const objectRef = someAudit.Contents.find((c) => c.Key === 'objectRef')!;
    expect(JSON.parse(objectRef.Value)).toHaveProperty('resource');
  });

  it('uses the sink ?project= when the input has none, NODE_IP as Source, and ?topic=', async () => {
    const { fake, sink } = await setup({}, 'project=p1&topic=audit');
    const sink2 = createSlsSink(new URL(`${fake.url}?project=p1`), { logger: silentLogger(), env: { ...fake.env, NODE_IP: '10.1.2.3' } });
    sinks.push(sink2);
    await sink.send(makeBatch(shipEventsFromFixture('falco-k8s_audit.ndjson').slice(0, 2)));
    await sink2.send(makeBatch(shipEventsFromFixture('falco-k8s_audit.ndjson').slice(0, 2)));
    expect(fake.logGroups.map((g) => [g.project, g.logGroup.Topic ?? '', g.logGroup.Source])).toEqual([
      ['p1', 'audit', 'node-1'],
      ['p1', '', '10.1.2.3'],
    ]);
  });

  it('sends logs with markers in LogGroups of their own, tagged, in order', async () => {
    const { fake, sink } = await setup();
    const events = shipEventsFromFixture('falco-k8s_audit.ndjson').slice(0, 6);
    events[2] = { ...events[2]!, markers: { __truncated__: 'true' } };
    events[4] = { raw: 'not json {', isObject: false, time: 5, timeNs: 0, markers: { __parse_error__: 'not a JSON object' } };
    await sink.send(makeBatch(events));
    expect(fake.logGroups.map((g) => g.logGroup.Logs.length)).toEqual([2, 1, 1, 1, 1]);
    expect(fake.logGroups.map((g) => [tagsOf(g).__truncated__, tagsOf(g).__parse_error__])).toEqual([
      [undefined, undefined],
      ['true', undefined],
      [undefined, undefined],
      [undefined, 'not a JSON object'],
      [undefined, undefined],
    ]);
    expectArrived(fake.logGroups, events);
    const seqs = fake.logGroups.map((g) => parseInt(tagsOf(g).__pack_id__!.split('-')[1]!, 16));
    expect(seqs).toEqual([seqs[0], seqs[0]! + 1, seqs[0]! + 2, seqs[0]! + 3, seqs[0]! + 4]);
  });

  it('splits a big batch into requests within the byte and count limits', async () => {
    const { fake, sink } = await setup({ maxRawBytes: 65_536, maxLogs: 3 }, 'project=p&maxRequestBytes=65536&maxRequestLogs=3');
    const events = [...shipEventsFromFixture('cks-prep-p.auster.ndjson'), ...shipEventsFromFixture('falco-k8s_audit.ndjson')];
    await sink.send(makeBatch(events));
    expect(fake.problems).toEqual([]);
    expect(fake.requests.length).toBe(fake.logGroups.length);
    expect(fake.logGroups.length).toBeGreaterThanOrEqual(Math.ceil(events.length / 3));
    for (const g of fake.logGroups) {
      expect(g.rawSize).toBeLessThanOrEqual(65_536);
      expect(g.logGroup.Logs.length).toBeLessThanOrEqual(3);
    }
    // The 148 KB event could not fit: it was cut and tagged, the others arrived whole.
    const cut = fake.logGroups.filter((g) => tagsOf(g).__truncated__ === 'true');
    expect(cut.length).toBeGreaterThan(0);
    expect(fake.logGroups.flatMap((g) => g.logGroup.Logs)).toHaveLength(events.length);
  });

  it('splits at the default 4096 logs per request', async () => {
    const { fake, sink } = await setup({ maxLogs: 4096 });
    const events = Array.from({ length: 5000 }, (_, i): ShipEvent => ({ raw: `{"i":${i}}`, isObject: true, time: 1000 + i, timeNs: 0 }));
    await sink.send(makeBatch(events));
    expect(fake.logGroups.map((g) => g.logGroup.Logs.length)).toEqual([4096, 904]);
    expectArrived(fake.logGroups, events);
  });

  it('cuts one event larger than a request (default 5 MB), tags it, counts it, and it arrives', async () => {
    fake = await startFakeSls({ maxRawBytes: 5_000_000 });
    const metrics = createMetrics();
    const sink = createSlsSink(new URL(`${fake.url}?project=p`), { logger: silentLogger(), env: fake.env, metrics });
    sinks.push(sink);
    const huge = { kind: 'Event', verb: 'update', requestObject: { data: 'x'.repeat(6_000_000) } };
    await sink.send(makeBatch([{ raw: JSON.stringify(huge), isObject: true, time: 7, timeNs: 0 }]));
    expect(fake.problems).toEqual([]);
    expect(fake.logGroups).toHaveLength(1);
    const g = fake.logGroups[0]!;
    expect(g.rawSize).toBeLessThanOrEqual(5_000_000);
    expect(tagsOf(g).__truncated__).toBe('true');
    const contents = Object.fromEntries(g.logGroup.Logs[0]!.Contents.map((c) => [c.Key, c.Value]));
    expect(contents.verb).toBe('update');
    expect(contents.requestObject!.length).toBeGreaterThan(4_900_000);
    expect((await metrics.linesTruncated.get()).values[0]!.value).toBe(1);
  });

  it('a wrong secret: SignatureNotMatch ⇒ blocked, one request, no retry inside the sink', async () => {
    fake = await startFakeSls();
    const sink = createSlsSink(new URL(`${fake.url}?project=p`), {
      logger: silentLogger(),
      env: { ...fake.env, ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'wrong' },
    });
    sinks.push(sink);
    const err = await sendError(sink, makeBatch(shipEventsFromFixture('falco-k8s_audit.ndjson')));
    expect(err.kind).toBe('blocked');
    expect([err.code, err.storeCode]).toEqual([E.SINK_AUTH, 'SignatureNotMatch']);
    expect(err.statusCode).toBe(401);
    expect(err.fix).toBeTruthy();
    expect(err.message).not.toContain('wrong');
    expect(fake.requests).toHaveLength(1);
  });

  it('a 403 SignatureNotMatch reply ⇒ blocked after exactly one request', async () => {
    const { fake, sink } = await setup({ fault: () => ({ status: 403, errorCode: 'SignatureNotMatch', errorMessage: 'no' }) });
    const err = await sendError(sink, makeBatch(shipEventsFromFixture('falco-k8s_audit.ndjson')));
    expect([err.kind, err.code, err.storeCode, err.statusCode]).toEqual(['blocked', E.SINK_AUTH, 'SignatureNotMatch', 403]);
    expect(fake.requests).toHaveLength(1);
  });

  it('an unknown access key id ⇒ blocked', async () => {
    fake = await startFakeSls();
    const sink = createSlsSink(new URL(`${fake.url}?project=p`), { logger: silentLogger(), env: { ...fake.env, ALIBABA_CLOUD_ACCESS_KEY_ID: 'other' } });
    sinks.push(sink);
    const err = await sendError(sink, makeBatch(shipEventsFromFixture('falco-k8s_audit.ndjson').slice(0, 1)));
    expect([err.kind, err.code, err.storeCode]).toEqual(['blocked', E.SINK_AUTH, 'InvalidAccessKeyId']);
  });

  it.each([
    ['503 ServerBusy', { status: 503, errorCode: 'ServerBusy' }, [E.SINK_THROTTLED, 'ServerBusy']],
    ['503 without a JSON body', { status: 503, body: '<html>busy</html>' }, [E.SINK_HTTP_5XX, undefined]],
    ['403 WriteQuotaExceed', { status: 403, errorCode: 'WriteQuotaExceed', errorMessage: 'Project write quota exceed' }, [E.SINK_THROTTLED, 'WriteQuotaExceed']],
    ['403 ShardWriteQuotaExceed', { status: 403, errorCode: 'ShardWriteQuotaExceed' }, [E.SINK_THROTTLED, 'ShardWriteQuotaExceed']],
    ['500 InternalServerError', { status: 500, errorCode: 'InternalServerError' }, [E.SINK_HTTP_5XX, 'InternalServerError']],
    ['429', { status: 429, body: '', headers: { 'retry-after': '7' } }, [E.SINK_THROTTLED, undefined]],
  ] as const)('%s ⇒ retryable, then the same batch goes through', async (_name, reply, codes) => {
    let failing = true;
    const { fake, sink } = await setup({ fault: () => (failing ? { ...reply } : undefined) });
    const events = shipEventsFromFixture('apisnoop-example-user-agent.log');
    const batch = makeBatch(events);
    const err = await sendError(sink, batch);
    expect(err.kind).toBe('retryable');
    expect([err.code, err.storeCode]).toEqual(codes);
    if ('headers' in reply) expect(err.retryAfterMs).toBe(7000);
    expect(fake.requests).toHaveLength(1);
    failing = false;
    await sink.send(batch);
    expectArrived(fake.logGroups, events);
  });

  it('a connection reset ⇒ retryable network error', async () => {
    const { fake, sink } = await setup({ fault: () => 'reset' });
    const err = await sendError(sink, makeBatch(shipEventsFromFixture('falco-k8s_audit.ndjson').slice(0, 1)));
    expect(err.kind).toBe('retryable');
    expect(fake.requests.length).toBeGreaterThanOrEqual(1);
  });

  it('a refused connection ⇒ retryable', async () => {
    const { sink } = await setup();
    await fake!.close();
    fake = undefined;
    const err = await sendError(sink, makeBatch(shipEventsFromFixture('falco-k8s_audit.ndjson').slice(0, 1)));
    expect(err.kind).toBe('retryable');
    expect([err.code, err.storeCode]).toEqual([E.SINK_NETWORK, 'ECONNREFUSED']);
  });

  it('PostBodyInvalid ⇒ rejected; PostBodyTooLarge ⇒ too-large (or rejected for a single log)', async () => {
    let reply: { status: number; errorCode: string } = { status: 400, errorCode: 'PostBodyInvalid' };
    const { sink } = await setup({ fault: () => reply });
    const two = makeBatch(shipEventsFromFixture('falco-k8s_audit.ndjson').slice(0, 2));
    expect((await sendError(sink, two)).kind).toBe('rejected');
    reply = { status: 400, errorCode: 'PostBodyTooLarge' };
    expect((await sendError(sink, two)).kind).toBe('too-large');
    expect((await sendError(sink, makeBatch(shipEventsFromFixture('falco-k8s_audit.ndjson').slice(0, 1)))).kind).toBe('rejected');
  });

  it('a retry after a partial failure resumes after the acknowledged requests (same pack ids, no duplicates)', async () => {
    let n = 0;
    const { fake, sink } = await setup({ fault: () => (++n === 3 ? { status: 503, errorCode: 'ServerBusy' } : undefined) }, 'project=p&maxRequestLogs=10');
    const events = shipEventsFromFixture('falco-k8s_audit.ndjson');
    const batch = makeBatch(events);
    expect((await sendError(sink, batch)).kind).toBe('retryable');
    expect(fake.logGroups).toHaveLength(2);
    await sink.send(batch);
    expectArrived(fake.logGroups, events);
    const packIds = fake.logGroups.map((g) => tagsOf(g).__pack_id__);
    expect(new Set(packIds).size).toBe(packIds.length);
    const seqs = packIds.map((p) => parseInt(p!.split('-')[1]!, 16));
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
  });

  it('no project anywhere ⇒ blocked naming _project and ?project=, without a request', async () => {
    const { fake, sink } = await setup({}, 'compress=lz4');
    const err = await sendError(sink, makeBatch(shipEventsFromFixture('falco-k8s_audit.ndjson').slice(0, 1), { inputKey: 'app' }));
    expect([err.kind, err.code]).toEqual(['blocked', E.SLS_NO_PROJECT]);
    expect(fake.requests).toHaveLength(0);
  });

  it('no credentials ⇒ blocked saying which variables to set, without a request', async () => {
    const { fake, sink } = await setup({}, 'project=p', {});
    const err = await sendError(sink, makeBatch(shipEventsFromFixture('falco-k8s_audit.ndjson').slice(0, 1)));
    expect([err.kind, err.code]).toEqual(['blocked', E.SINK_CREDENTIALS_MISSING]);
    expect(fake.requests).toHaveLength(0);
  });

  it('sends the STS token in x-acs-security-token (signed)', async () => {
    const { fake, sink } = await setup({ securityToken: 'sts-token-1' });
    await sink.send(makeBatch(shipEventsFromFixture('falco-k8s_audit.ndjson').slice(0, 1)));
    expect(fake.problems).toEqual([]);
    expect(fake.requests[0]!.headers['x-acs-security-token']).toBe('sts-token-1');
    const noToken = createSlsSink(new URL(`${fake.url}?project=p`), {
      logger: silentLogger(),
      env: { ALIBABA_CLOUD_ACCESS_KEY_ID: fake.env.ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET: fake.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET },
    });
    sinks.push(noToken);
    const err = await sendError(noToken, makeBatch(shipEventsFromFixture('falco-k8s_audit.ndjson').slice(0, 1)));
    expect([err.kind, err.code, err.storeCode]).toEqual(['blocked', E.SINK_AUTH, 'Unauthorized']);
    expect(err.fix).toBeTruthy();
  });

  it('picks up rotated credentials from TAILSHIP_SLS_CREDENTIALS_FILE without a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailship-sls-'));
    try {
      const file = join(dir, 'credentials.json');
      writeFileSync(file, JSON.stringify({ AccessKeyId: 'old-id', AccessKeySecret: 'old-secret' }));
      const { fake, sink } = await setup({}, 'project=p', { TAILSHIP_SLS_CREDENTIALS_FILE: file });
      const batch = makeBatch(shipEventsFromFixture('falco-k8s_audit.ndjson').slice(0, 3));
      const err = await sendError(sink, batch);
      expect([err.kind, err.code, err.storeCode]).toEqual(['blocked', E.SINK_AUTH, 'InvalidAccessKeyId']);
      writeFileSync(file, JSON.stringify({ AccessKeyId: fake.env.ALIBABA_CLOUD_ACCESS_KEY_ID, AccessKeySecret: fake.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET }));
      await sink.send(batch);
      expect(fake.logGroups).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("re-synchronises its clock after RequestTimeExpired (the server's clock is an hour ahead)", async () => {
    const { fake, sink } = await setup({ clockSkewMs: 3_600_000 });
    const batch = makeBatch(shipEventsFromFixture('falco-k8s_audit.ndjson').slice(0, 2));
    const err = await sendError(sink, batch);
    expect([err.kind, err.code, err.storeCode]).toEqual(['retryable', E.SLS_CLOCK_SKEW, 'RequestTimeExpired']);
    await sink.send(batch);
    expect(fake.logGroups).toHaveLength(1);
  });

  describe('missing logstore', () => {
    it('creates it once with the input shard, ttl and mode, then ships', async () => {
      const { fake, sink } = await setup({ logstores: [] });
      const events = shipEventsFromFixture('falco-k8s_audit.ndjson').slice(0, 5);
      const batch = makeBatch(events, { logstore: 'app-log', product: undefined, shard: 3, ttl: 30, logstoreMode: 'query' });
      await sink.send(batch);
      expect(fake.problems).toEqual([]);
      expect(fake.created).toEqual([
        { project: 'p', body: { logstoreName: 'app-log', ttl: 30, shardCount: 3, autoSplit: true, maxSplitShard: 32, mode: 'query' } },
      ]);
      expectArrived(fake.logGroups, events);
      await sink.send(makeBatch(events, { logstore: 'app-log', product: undefined }));
      expect(fake.created).toHaveLength(1);
    });

    it('does not create a product (k8s-audit) logstore: blocked with what to do', async () => {
      const { fake, sink } = await setup({ logstores: [] });
      const err = await sendError(sink, makeBatch(shipEventsFromFixture('falco-k8s_audit.ndjson').slice(0, 1)));
      expect([err.kind, err.code, err.storeCode]).toEqual(['blocked', E.SLS_LOGSTORE_NOT_EXIST, 'LogStoreNotExist']);
      expect(fake.created).toHaveLength(0);
    });

    it('creates a product logstore with ?create=always', async () => {
      const { fake, sink } = await setup({ logstores: [] }, 'project=p&create=always');
      await sink.send(makeBatch(shipEventsFromFixture('falco-k8s_audit.ndjson').slice(0, 1)));
      expect(fake.created).toHaveLength(1);
      expect(fake.logGroups).toHaveLength(1);
    });

    it('with ?create=false ⇒ blocked, nothing created', async () => {
      const { fake, sink } = await setup({ logstores: [] }, 'project=p&create=false');
      const err = await sendError(sink, makeBatch(shipEventsFromFixture('falco-k8s_audit.ndjson').slice(0, 1), { logstore: 'app', product: undefined }));
      expect([err.kind, err.code, err.storeCode]).toEqual(['blocked', E.SLS_LOGSTORE_NOT_EXIST, 'LogStoreNotExist']);
      expect(err.fix).toBeTruthy();
      expect(fake.created).toHaveLength(0);
    });

    it('when creation is refused ⇒ blocked with the command to create it, not retried at once', async () => {
      const { fake, sink } = await setup({
        logstores: [],
        fault: (r) => (r.path === '/logstores' ? { status: 401, errorCode: 'Unauthorized', errorMessage: 'denied' } : undefined),
      });
      const batch = makeBatch(shipEventsFromFixture('falco-k8s_audit.ndjson').slice(0, 1), { logstore: 'app', product: undefined });
      const err = await sendError(sink, batch);
      expect([err.kind, err.code, err.storeCode]).toEqual(['blocked', E.SLS_LOGSTORE_CREATE_FAILED, 'Unauthorized']);
      const creates = fake.requests.filter((r) => r.path === '/logstores').length;
      expect((await sendError(sink, batch)).kind).toBe('blocked');
      expect(fake.requests.filter((r) => r.path === '/logstores').length).toBe(creates);
    });

    it('ProjectNotExist ⇒ blocked naming the project', async () => {
      const { sink } = await setup({ projects: ['other'] });
      const err = await sendError(sink, makeBatch(shipEventsFromFixture('falco-k8s_audit.ndjson').slice(0, 1)));
      expect([err.kind, err.code, err.storeCode]).toEqual(['blocked', E.SLS_PROJECT_NOT_EXIST, 'ProjectNotExist']);
      expect(err.fix).toBeTruthy();
    });
  });
});
