import { expect, test } from 'vitest';
import { parseHostPort } from '../../../src/net/host-port.js';

test.each([
  ['127.0.0.1:2020', { host: '127.0.0.1', port: 2020 }],
  ['[::1]:2020', { host: '::1', port: 2020 }],
  [':9', { host: '', port: 9 }],
  ['localhost:0', { host: 'localhost', port: 0 }],
  [' 0.0.0.0:80 ', { host: '0.0.0.0', port: 80 }],
  ['127.0.0.1:70000', { error: 'port-range' }],
  ['2020', { error: 'form' }],
  ['host:port', { error: 'form' }],
  ['::1:2020', { error: 'form' }],
  ['', { error: 'form' }],
])('parseHostPort(%j)', (text, expected) => {
  expect(parseHostPort(text)).toEqual(expected);
});
