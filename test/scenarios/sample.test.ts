// The README's first command over the shipped sample directory: --host-root test/fixtures/sample, the input
// names /var/log/kubernetes/kubernetes.audit, --backfill ships the rotated backup first, --exit-when-idle ends the
// run once everything is read and acknowledged.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAllAgents, REPO_ROOT, startAgent } from '../helpers/agent-process.js';
import { assertExactKeys, keysOf, readSinkDir, textKey } from '../helpers/ndjson.js';

const SAMPLE_ROOT = path.join(REPO_ROOT, 'test', 'fixtures', 'sample');
const LOG_DIR = path.join(SAMPLE_ROOT, 'var', 'log', 'kubernetes');
const BACKUP = 'kubernetes-2026-11-20T08-00-00.000.audit';

const linesOf = (file: string): string[] => fs.readFileSync(path.join(LOG_DIR, file), 'utf8').split('\n').filter((l) => l !== '');

afterEach(async () => {
  await killAllAgents();
});

describe('sample log directory (README demo)', () => {
  it('ships the backup, then the active file, each event once, and exits when idle', async () => {
    fs.mkdirSync(path.join(os.tmpdir(), 'tailship-scenarios'), { recursive: true });
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tailship-scenarios', 'sample-'));
    try {
      const envFile = path.join(root, 'demo.env');
      fs.writeFileSync(envFile, 'aliyun_logs_audit-demo=/var/log/kubernetes/kubernetes.audit\naliyun_logs_audit-demo_product=k8s-audit\n');
      const out = path.join(root, 'out');
      const agent = startAgent({
        args: [
          '--env-file', envFile,
          '--host-root', SAMPLE_ROOT,
          '--state-dir', path.join(root, 'state'),
          '--sink', `file:${out}`,
          '--listen', 'off',
          '--backfill',
          '--exit-when-idle',
        ],
      });
      const exit = await agent.waitExit(60_000);
      expect(exit.code, `exit code; stderr:\n${agent.stderrTail()}`).toBe(0);

      const backup = linesOf(BACKUP);
      const active = linesOf('kubernetes.audit');
      expect(backup.length + active.length).toBe(306);
      const logs = readSinkDir(out, 'audit-demo');
      const expected = [...backup, ...active].map(textKey);
      assertExactKeys(expected, keysOf(logs));
      expect(keysOf(logs), 'backup first, then the active file, each in file order').toEqual(expected);
      for (const log of logs) {
        expect(log.__tag__?.__hostname__).toBe('test-node');
        // SPEC §2: the path as the input names it (without --host-root).
        expect(log.__tag__?.__path__).toMatch(/^\/var\/log\/kubernetes\/kubernetes[^/]*\.audit$/);
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
