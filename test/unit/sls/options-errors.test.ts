import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors.js';
import { parseRetryAfter } from '../../../src/deliver/retry-after.js';
import { kindOf, parseErrorBody, sinkErrorFor } from '../../../src/deliver/sinks/sls/errors.js';
import { toSlsLog } from '../../../src/deliver/sinks/sls/log-group.js';
import { parseSlsUri, requestTarget } from '../../../src/deliver/sinks/sls/options.js';
import { splitLogs } from '../../../src/deliver/sinks/sls/split.js';
import { thrownCode } from '../deliver/support.js';

describe('sls:// URI', () => {
  it('sends to {project}.{endpoint} over https for a domain endpoint', () => {
    const o = parseSlsUri(new URL('sls://cn-hangzhou.log.aliyuncs.com?project=k8s-log-c1'));
    expect(o).toMatchObject({ secure: true, direct: false, endpoint: 'cn-hangzhou.log.aliyuncs.com', project: 'k8s-log-c1', compress: 'lz4', create: 'true' });
    expect(o.maxRequestBytes).toBe(5_000_000);
    expect(o.maxRequestLogs).toBe(4096);
    expect(requestTarget(o, 'k8s-log-c1')).toEqual({ origin: 'https://k8s-log-c1.cn-hangzhou.log.aliyuncs.com' });
    expect(requestTarget(parseSlsUri(new URL('sls+http://cn-hangzhou-intranet.log.aliyuncs.com:8080')), 'p')).toEqual({
      origin: 'http://p.cn-hangzhou-intranet.log.aliyuncs.com:8080',
    });
  });

  it.each(['sls+http://127.0.0.1:9000', 'sls://10.0.0.1', 'sls+http://localhost:1234', 'sls+http://[::1]:9000'])(
    'sends to an IP or localhost endpoint itself with x-log-project (%s)',
    (uri) => {
      const o = parseSlsUri(new URL(uri));
      expect(o.direct).toBe(true);
      const t = requestTarget(o, 'p');
      expect(t.projectHeader).toBe('p');
      expect(t.origin).toBe(`${uri.startsWith('sls+http') ? 'http' : 'https'}://${new URL(uri).host}`);
    },
  );

  it.each([
    ['sls://h?compress=zstd', ErrorCodes.CONFIG_SINK_OPTION],
    ['sls://h?create=maybe', ErrorCodes.CONFIG_SINK_OPTION],
    ['sls://h?maxRequestBytes=20000000', ErrorCodes.CONFIG_SINK_OPTION],
    ['sls://h?maxRequestLogs=0', ErrorCodes.CONFIG_SINK_OPTION],
    ['sls://h?projcet=p', ErrorCodes.CONFIG_SINK_OPTION],
    ['http://h', ErrorCodes.CONFIG_SINK_URI],
  ])('refuses %s with code %s', (uri, code) => {
    expect(thrownCode(() => parseSlsUri(new URL(uri)))).toBe(code);
  });
});

describe('SLS error classification', () => {
  it.each([
    [503, 'ServerBusy', 'retryable'],
    [500, undefined, 'retryable'],
    [502, undefined, 'retryable'],
    [403, 'WriteQuotaExceed', 'retryable'],
    [403, 'ShardWriteQuotaExceed', 'retryable'],
    [400, 'RequestTimeExpired', 'retryable'],
    [429, undefined, 'retryable'],
    [408, undefined, 'retryable'],
    [401, 'Unauthorized', 'blocked'],
    [401, 'SignatureNotMatch', 'blocked'],
    [403, 'SignatureNotMatch', 'blocked'],
    [401, 'InvalidAccessKeyId', 'blocked'],
    [404, 'ProjectNotExist', 'blocked'],
    [404, 'LogStoreNotExist', 'blocked'],
    [400, 'LogStoreNotExist', 'blocked'],
    [400, 'InvalidCompressType', 'blocked'],
    [400, 'PostBodyInvalid', 'rejected'],
    [400, 'InvalidParameter', 'rejected'],
    [400, 'ParameterInvalid', 'rejected'],
    [400, 'PostBodyTooLarge', 'too-large'],
    [413, undefined, 'too-large'],
  ] as const)('HTTP %s %s ⇒ %s', (status, code, kind) => {
    expect(kindOf(status, code, 10)).toBe(kind);
  });

  it('rejects a too-large single log instead of asking to split it forever', () => {
    expect(kindOf(413, 'PostBodyTooLarge', 1)).toBe('rejected');
  });

  it('builds messages with the code, the request id and the fix', () => {
    const err = sinkErrorFor(
      { status: 404, code: 'LogStoreNotExist', message: 'logstore x does not exist', requestId: 'RID1', body: '{}' },
      { project: 'p', logstore: 'x', endpoint: 'cn-hangzhou.log.aliyuncs.com', credentialsOrigin: 'env ALIBABA_CLOUD_ACCESS_KEY_ID', logs: 3 },
    );
    expect(err.kind).toBe('blocked');
    expect(err.code).toBe(ErrorCodes.SLS_LOGSTORE_NOT_EXIST);
    expect(err.storeCode).toBe('LogStoreNotExist');
    expect(err.fix).toBeTruthy();
  });

  it('parses error bodies and Retry-After', () => {
    expect(parseErrorBody('{"errorCode":"ServerBusy","errorMessage":"busy"}')).toEqual({ code: 'ServerBusy', message: 'busy' });
    expect(parseErrorBody('<html>')).toEqual({});
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('request splitting', () => {
  const ev = (i: number, markers?: Record<string, string>) =>
    toSlsLog({ raw: JSON.stringify({ i, pad: 'x'.repeat(100) }), isObject: true, time: i, timeNs: 0, ...(markers ? { markers } : {}) });

  it('keeps order, groups by markers, and respects bytes and counts', () => {
    const logs = [ev(0), ev(1), ev(2, { __truncated__: 'true' }), ev(3, { __truncated__: 'true' }), ev(4), ev(5), ev(6), ev(7)];
    const chunks = splitLogs(logs, { maxBytes: 1 << 20, maxLogs: 3 }, () => 50);
    expect(chunks.map((c) => [c.start, c.end, c.markers?.__truncated__])).toEqual([
      [0, 2, undefined],
      [2, 4, 'true'],
      [4, 7, undefined],
      [7, 8, undefined],
    ]);
    const size = logs[0]!.size + 2; // field tag + 1-byte length
    const byBytes = splitLogs(logs.slice(4), { maxBytes: 50 + size * 2, maxLogs: 100 }, () => 50);
    expect(byBytes.map((c) => c.end - c.start)).toEqual([2, 2]);
  });

  it('cuts a log that alone exceeds a request and reports it', () => {
    const big = toSlsLog({ raw: JSON.stringify({ a: 'y'.repeat(10_000) }), isObject: true, time: 1, timeNs: 0 });
    const cuts: number[] = [];
    const chunks = splitLogs([ev(0), big, ev(2)], { maxBytes: 2000, maxLogs: 10 }, (m) => (m ? 80 : 50), (i) => cuts.push(i));
    expect(cuts).toEqual([1]);
    expect(big.markers).toEqual({ __truncated__: 'true' });
    expect(big.size + 3 + 80).toBeLessThanOrEqual(2000);
    expect(chunks.map((c) => [c.start, c.end])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
  });
});
