// A minimal HTTPS/HTTP client for the webhook tests: POST a body (Buffer or stream), get status, headers and body.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { TestCerts } from './certs.js';

export interface PostResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface PostOptions {
  certs?: TestCerts;
  /** Client certificate: 'client' (signed by the CA), 'other' (another CA), 'none'. */
  client?: 'client' | 'other' | 'none';
  headers?: Record<string, string>;
  agent?: http.Agent;
}

export function post(port: number, body: Buffer | Readable, o: PostOptions = {}): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    const c = o.certs;
    const common = { host: '127.0.0.1', port, method: 'POST', path: '/audit', headers: { 'content-type': 'application/json', ...(Buffer.isBuffer(body) ? { 'content-length': String(body.length) } : {}), ...o.headers } };
    const onRes = (res: http.IncomingMessage): void => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts).toString() }));
      res.on('error', reject);
    };
    const req = c
      ? https.request(
          {
            ...common,
            ca: fs.readFileSync(c.ca),
            ...(o.client === 'none' ? {} : o.client === 'other' ? { cert: fs.readFileSync(c.otherCert), key: fs.readFileSync(c.otherKey) } : { cert: fs.readFileSync(c.clientCert), key: fs.readFileSync(c.clientKey) }),
            agent: o.agent ?? false,
          },
          onRes,
        )
      : http.request({ ...common, agent: o.agent ?? false }, onRes);
    req.on('error', reject);
    if (Buffer.isBuffer(body)) req.end(body);
    else {
      body.on('error', () => req.destroy());
      body.pipe(req);
    }
  });
}

/** An EventList of `n` generated events (audit.k8s.io/v1, compact), ids `${prefix}-${i}`. */
export function eventList(prefix: string, n: number, pad = 200): { body: Buffer; keys: string[] } {
  const items: string[] = [];
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${prefix}-${i}`;
    keys.push(`${id} ResponseComplete`);
    items.push(
      JSON.stringify({
        kind: 'Event',
        apiVersion: 'audit.k8s.io/v1',
        level: 'Metadata',
        auditID: id,
        stage: 'ResponseComplete',
        requestURI: `/api/v1/namespaces/default/pods/p${i}`,
        verb: 'get',
        user: { username: 'system:serviceaccount:kube-system:x', groups: ['system:authenticated'] },
        sourceIPs: ['10.0.0.1'],
        objectRef: { resource: 'pods', namespace: 'default', name: `p${i}`, apiVersion: 'v1' },
        responseStatus: { metadata: {}, code: 200 },
        requestReceivedTimestamp: '2026-12-01T10:00:00.000000Z',
        stageTimestamp: '2026-12-01T10:00:00.001000Z',
        annotations: { pad: 'x'.repeat(pad) },
      }),
    );
  }
  return { body: Buffer.from(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[${items.join(',')}]}`), keys };
}
