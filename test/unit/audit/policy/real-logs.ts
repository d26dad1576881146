// The real one-event-per-line audit logs the policy tests run on: Falco's traces, apisnoop's, and the p.auster
// events made compact (test/fixtures/policies/PROVENANCE.md).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../../../fixtures/', import.meta.url));

export const REAL_LOGS = [
  ...fs
    .readdirSync(path.join(FIXTURES, 'audit', 'falco-k8s_audit'))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => path.join(FIXTURES, 'audit', 'falco-k8s_audit', f)),
  path.join(FIXTURES, 'audit', 'apisnoop-example-user-agent.log'),
  path.join(FIXTURES, 'policies', 'logs', 'cks-prep-p.auster.ndjson'),
];
