import { describe, expect, test } from 'vitest';
import { DEFAULT_OPTIONS } from '../../../src/config/options.js';
import type { InputSpec } from '../../../src/config/types.js';
import { createMetrics } from '../../../src/observe/metrics.js';
import { buildProcessors } from '../../../src/process/pipeline.js';
import { runProcessors } from '../../../src/process/stage.js';
import pino from 'pino';
import { ctxOf, eventOf, fixtureLines, single } from './support.js';

const input = (over: Partial<InputSpec> = {}): InputSpec =>
  ({ key: 'audit-c0123456789abcdef0123456789abcdef', origin: { kind: 'env' }, path: '/a', hostPath: '/a', stdout: false, tags: {}, json: true, logstore: 'l', shard: 2, ttl: 90, logstoreMode: 'standard', extra: {}, ...over }) as InputSpec;
const deps = () => ({ metrics: createMetrics(), logger: pino({ level: 'silent' }), env: {} });

describe('buildProcessors', () => {
  test('a JSON input: legacy, metrics, redact, trim, identity in SPEC order; a text input: identity only', () => {
    const opts = { ...DEFAULT_OPTIONS, redact: 'all', maxEventBytes: 1024 };
    expect(buildProcessors(input(), opts, deps())).toHaveLength(5);
    expect(buildProcessors(input(), DEFAULT_OPTIONS, deps())).toHaveLength(3);
    expect(buildProcessors(input({ json: false }), opts, deps())).toHaveLength(1);
  });

  test('one Secret event through the whole list: redacted, then identified with the ACK cluster id', () => {
    const d = deps();
    const stages = buildProcessors(input(), { ...DEFAULT_OPTIONS, redact: 'secrets', maxEventBytes: 1024 * 1024 }, d);
    const line = fixtureLines('audit-redact/secrets.ndjson')[1]!;
    const planted = Buffer.from('PLANTED-db-password-1').toString('base64');
    expect(line).toContain(planted);
    const out = single(runProcessors(stages, eventOf(line), ctxOf()));
    expect(out.raw).not.toContain(planted);
    expect(Object.keys(out.markers!).sort()).toEqual(['__event_id__', '__redacted__']);
  });
});
