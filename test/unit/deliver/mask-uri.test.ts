import { expect, test } from 'vitest';
import { maskSinkUri } from '../../../src/deliver/mask-uri.js';

// The one masking rule for sink URIs (tailship config, usage errors, refused URIs).
test.each([
  ['file:./tailship-out', 'file:./tailship-out'],
  ['stdout:', 'stdout:'],
  ['https://user:pa55@logs.example/ingest?gzip=false', 'https://***@logs.example/ingest?gzip=false'],
  ['http://127.0.0.1:8080/x?header.Authorization=Bearer%20t0k&header.X-Team=web&gzip=false', 'http://127.0.0.1:8080/x?header.Authorization=***&header.X-Team=***&gzip=false'],
  ['sls://cn-hangzhou.log.aliyuncs.com?project=p&accessKeySecret=s3&token=t', 'sls://cn-hangzhou.log.aliyuncs.com?project=p&accessKeySecret=***&token=***'],
  ['ftp://user:hunter2@host/x?token=abc123&sig=zz&n=1', 'ftp://***@host/x?token=***&sig=***&n=1'],
  ['not a url //u:p@h?password=x', 'not a url //***@h?password=***'],
])('maskSinkUri(%s)', (uri, masked) => {
  expect(maskSinkUri(uri)).toBe(masked);
});

