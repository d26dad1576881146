import { expect, test } from 'vitest';
import { ackClusterId, isAckAuditLogstore } from '../../../src/convention/audit-logstore.js';

const ID = 'c5a1e0b7d3f2c4e6a8b0d2f4e6a8c0b2d'; // 33 characters

test('audit- + a 33-character cluster id is an ACK audit logstore, nothing else is', () => {
  expect(ID).toHaveLength(33);
  expect(isAckAuditLogstore(`audit-${ID}`)).toBe(true);
  expect(ackClusterId(`audit-${ID}`)).toBe(ID);
  for (const name of [`audit-${ID}x`, `audit-${ID.slice(1)}`, `Audit-${ID}`, 'audit-', 'audit', `x-${ID}`]) {
    expect(isAckAuditLogstore(name)).toBe(false);
    expect(ackClusterId(name)).toBeUndefined();
  }
});
