import { describe, expect, it } from 'vitest';
import {
  authorizationV1,
  canonicalizedHeaders,
  canonicalizedResource,
  contentMd5,
  httpDate,
  signV1,
  stringToSign,
} from '../../../src/deliver/sinks/sls/signature.js';

// The two worked vectors of research/logtail-sls.md §3.4 (from the Go SDK's signature_test.go).
const SECRET = 'mockAccessKeySecret';
const DATE = 'Mon, 3 Jan 2010 08:33:47 GMT';

describe('SLS signature v1', () => {
  it('vector 1: GET /logstores without a body', () => {
    const headers = {
      'x-log-apiversion': '0.6.0',
      'x-log-signaturemethod': 'hmac-sha1',
      'x-log-bodyrawsize': '0',
      Date: DATE,
    };
    expect(stringToSign('GET', '/logstores', headers)).toBe(
      'GET\n\n\nMon, 3 Jan 2010 08:33:47 GMT\nx-log-apiversion:0.6.0\nx-log-bodyrawsize:0\nx-log-signaturemethod:hmac-sha1\n/logstores',
    );
    expect(signV1(SECRET, 'GET', '/logstores', headers)).toBe('Rwm6cTKzoti4HWoe+GKcb6Kv07E=');
  });

  it('vector 2: a protobuf body, its upper-case hex MD5 and Content-Type', () => {
    const body = Buffer.from(
      '0a320a1e08f8b2939e0512160a07546573744b6579120b54657374436f6e74656e741a00220e31302e3233302e3230312e313137',
      'hex',
    );
    expect(body.length).toBe(52);
    const md5 = contentMd5(body);
    expect(md5).toBe('8D6881250FF5559F59BBDF04100F6E59');
    const headers = {
      'Content-Type': 'application/x-protobuf',
      'Content-MD5': md5,
      'x-log-apiversion': '0.6.0',
      'x-log-signaturemethod': 'hmac-sha1',
      'x-log-bodyrawsize': '50',
      Date: DATE,
    };
    expect(signV1(SECRET, 'GET', '/logstores/app_log', headers)).toBe('87xQWqFaOSewqRIma8kPjGYlXHc=');
    expect(authorizationV1('mockAccessKeyID', SECRET, 'GET', '/logstores/app_log', headers)).toBe(
      'LOG mockAccessKeyID:87xQWqFaOSewqRIma8kPjGYlXHc=',
    );
  });

  it('canonicalizes x-log-/x-acs- headers only: lower-case, trimmed, sorted', () => {
    expect(
      canonicalizedHeaders({
        'X-Log-Compresstype': 'lz4',
        'x-acs-security-token': ' tok ',
        'x-log-apiversion': '0.6.0',
        'User-Agent': 'tailship',
        'x-log-project': 'p',
      }),
    ).toBe('x-acs-security-token:tok\nx-log-apiversion:0.6.0\nx-log-compresstype:lz4\nx-log-project:p\n');
  });

  it('puts sorted query parameters with raw values in the resource', () => {
    expect(canonicalizedResource('/logstores/ls/shards/route', { seqid: '1', key: 'a b' })).toBe(
      '/logstores/ls/shards/route?key=a b&seqid=1',
    );
    expect(canonicalizedResource('/logstores/ls/shards/lb')).toBe('/logstores/ls/shards/lb');
  });

  it('formats Date as RFC 1123 GMT', () => {
    expect(httpDate(Date.UTC(2010, 0, 3, 8, 33, 47))).toBe('Sun, 03 Jan 2010 08:33:47 GMT');
  });
});
