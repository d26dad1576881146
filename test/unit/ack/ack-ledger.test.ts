import { expect, test } from 'vitest';
import { AckLedger } from '../../../src/ack/ack-ledger.js';

test('commits only the acknowledged prefix, in order', () => {
  const l = new AckLedger();
  l.open('s', 10);
  l.track('a', 's', 10, 20);
  l.track('b', 's', 20, 30);
  l.track('c', 's', 30, 40);
  l.settle('b');
  expect(l.position('s')?.committed).toBe(10);
  expect(l.position('s')?.sealed).toEqual([20, 30, 40]);
  l.settle('a');
  expect(l.position('s')?.committed).toBe(30);
  expect(l.position('s')?.sealed).toEqual([40]);
  expect(l.position('s')?.settled).toBe(false);
  l.settle('c');
  expect(l.position('s')?.committed).toBe(40);
  expect(l.position('s')?.settled).toBe(true);
  expect(l.pending).toBe(0);
});

test('a batch never acknowledged holds the commit point; streams are independent', () => {
  const l = new AckLedger();
  l.open('x', 0);
  l.open('y', 0);
  l.track('x1', 'x', 0, 5);
  l.track('x2', 'x', 5, 9);
  l.track('y1', 'y', 0, 3);
  l.settle('x2');
  l.settle('y1');
  expect(l.position('x')?.committed).toBe(0);
  expect(l.position('y')?.committed).toBe(3);
  const v = l.version;
  l.settle('unknown');
  expect(l.version).toBe(v);
});

test('tracking an unopened stream is a programming error', () => {
  expect(() => new AckLedger().track('a', 'nope', 0, 1)).toThrow(/not opened/);
});
