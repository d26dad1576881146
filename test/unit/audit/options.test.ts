import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseCommandLine, UsageError } from '../../../src/config/options.js';
import { toSlsLog } from '../../../src/deliver/sinks/sls/log-group.js';

describe('--redact, --redact-key, --max-event-bytes', () => {
  test('defaults: off, no key, 0', () => {
    const { options } = parseCommandLine(['run'], {});
    expect(options.redact).toBe('off');
    expect(options.redactKey).toBeUndefined();
    expect(options.maxEventBytes).toBe(0);
  });

  test('flags and env vars (the flag wins); sizes take K, M, G', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redact-opt-'));
    const key = path.join(dir, 'key');
    fs.writeFileSync(key, 'abc\n');
    try {
      const a = parseCommandLine(['run', '--redact', 'secrets,tokens', '--redact-key', key, '--max-event-bytes', '1M'], {});
      expect(a.options).toMatchObject({ redact: 'secrets,tokens', redactKey: key, maxEventBytes: 1024 * 1024 });
      const b = parseCommandLine(['run'], { TAILSHIP_REDACT: 'all', TAILSHIP_REDACT_KEY: key, TAILSHIP_MAX_EVENT_BYTES: '256K' });
      expect(b.options).toMatchObject({ redact: 'all', redactKey: key, maxEventBytes: 256 * 1024 });
      expect(parseCommandLine(['run', '--redact', 'off'], { TAILSHIP_REDACT: 'all' }).options.redact).toBe('off');
      expect(parseCommandLine(['run', '--max-event-bytes', '0'], {}).options.maxEventBytes).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a bad list, a bad size and an unreadable key file are usage errors (exit 2) naming the flag', () => {
    const flagOf = (argv: string[], env: Record<string, string> = {}) => {
      try {
        parseCommandLine(argv, env);
      } catch (e) {
        return e instanceof UsageError ? e.flag : String(e);
      }
      return undefined;
    };
    expect(flagOf(['run', '--redact', 'passwords'])).toBe('--redact');
    expect(flagOf(['run'], { TAILSHIP_REDACT: 'secrets,bogus' })).toBe('TAILSHIP_REDACT');
    expect(flagOf(['run', '--max-event-bytes', '-1'])).toBe('--max-event-bytes');
    expect(flagOf(['run', '--max-event-bytes', 'lots'])).toBe('--max-event-bytes');
    expect(flagOf(['run', '--redact', 'all', '--redact-key', '/nonexistent/tailship-key'])).toBe('--redact-key');
  });
});

describe('SLS: __event_id__ is a content key of the log (SPEC §10), not a LogTag', () => {
  test('the marker moves into the contents; other markers stay tags', () => {
    const log = toSlsLog({ raw: '{"a":"x"}', isObject: true, time: 1, timeNs: 0, markers: { __event_id__: 'f00d', __trimmed__: 'responseObject' } });
    expect(log.kv).toEqual(['a', 'x', '__event_id__', 'f00d']);
    expect(log.markers).toEqual({ __trimmed__: 'responseObject' });
    const only = toSlsLog({ raw: 'text', isObject: false, time: 1, timeNs: 0, markers: { __event_id__: 'beef' } });
    expect(only.kv).toEqual(['content', 'text', '__event_id__', 'beef']);
    expect(only.markers).toBeUndefined();
    expect(only.size).toBeGreaterThan(toSlsLog({ raw: 'text', isObject: false, time: 1, timeNs: 0 }).size);
  });

  test('an event with its own __event_id__ key gets ours in its place', () => {
    const log = toSlsLog({ raw: '{"__event_id__":"theirs","b":1}', isObject: true, time: 1, timeNs: 0, markers: { __event_id__: 'ours' } });
    expect(log.kv).toEqual(['__event_id__', 'ours', 'b', '1']);
  });
});
