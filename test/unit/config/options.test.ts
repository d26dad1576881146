import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { DEFAULT_OPTIONS, FLAGS, HELP_TEXT, UsageError, parseCommandLine } from '../../../src/config/options.js';
import { ErrorCodes } from '../../../src/errors.js';

const usage = (argv: string[], env: NodeJS.ProcessEnv = {}): UsageError => {
  try {
    parseCommandLine(argv, env);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return e as UsageError;
  }
  throw new Error(`no UsageError for ${argv.join(' ')}`);
};

/** --redact-key must name a readable, non-empty file: this test file is one. */
const KEY_FILE = fileURLToPath(import.meta.url);

describe('parseCommandLine', () => {
  test('defaults are exactly SPEC §1', () => {
    expect(parseCommandLine([], {})).toEqual({
      command: 'run',
      options: {
        envFiles: [],
        manifests: undefined,
        hostRoot: '',
        stateDir: './.tailship-state',
        sink: 'file:./tailship-out',
        sinks: ['file:./tailship-out'],
        listen: '127.0.0.1:2020',
        startAt: 'beginning',
        backfill: false,
        maxLineBytes: 16777216,
        batchMaxEvents: 4096,
        batchMaxBytes: 3145728,
        batchMaxWait: 1000,
        shutdownGrace: 10000,
        logLevel: 'info',
        maxInflightBytes: 10485760,
        exitWhenIdle: false,
        waitForInputs: false,
        redact: 'off',
        redactKey: undefined,
        maxEventBytes: 0,
        // webhook (SPEC §8)
        webhookListen: 'off',
        webhookTlsCert: undefined,
        webhookTlsKey: undefined,
        webhookClientCa: undefined,
        webhookKey: 'audit-webhook',
        webhookTimeout: 30000,
        inputDownGrace: 60000,
      },
    });
  });

  test('commands', () => {
    expect(parseCommandLine(['run'], {}).command).toBe('run');
    expect(parseCommandLine(['config'], {}).command).toBe('config');
    expect(parseCommandLine(['status', '--json'], {})).toMatchObject({ command: 'status', json: true });
    expect(parseCommandLine(['--help'], {}).command).toBe('help');
    expect(parseCommandLine(['-h'], {}).command).toBe('help');
    expect(parseCommandLine(['--version'], {}).command).toBe('version');
    expect(parseCommandLine(['config', '--version'], {}).command).toBe('version');
    // --help works even when the rest is wrong, so that a user can always read it.
    expect(parseCommandLine(['--bogus', '--help'], { TAILSHIP_LISTEN: 'nonsense' }).command).toBe('help');
  });

  test('every flag from its env var, in both flag forms, and the flag wins', () => {
    const env = {
      TAILSHIP_ENV_FILE: 'a.env, b.env',
      TAILSHIP_MANIFESTS: '/etc/kubernetes/manifests',
      TAILSHIP_HOST_ROOT: '/host',
      TAILSHIP_STATE_DIR: '/var/lib/tailship',
      TAILSHIP_SINK: 'stdout:',
      TAILSHIP_LISTEN: 'off',
      TAILSHIP_START_AT: 'end',
      TAILSHIP_BACKFILL: 'true',
      TAILSHIP_MAX_LINE_BYTES: '1M',
      TAILSHIP_BATCH_MAX_EVENTS: '10',
      TAILSHIP_BATCH_MAX_BYTES: '2048',
      TAILSHIP_BATCH_MAX_WAIT: '5s',
      TAILSHIP_SHUTDOWN_GRACE: '0',
      TAILSHIP_LOG_LEVEL: 'debug',
      TAILSHIP_MAX_INFLIGHT_BYTES: '4M',
      TAILSHIP_EXIT_WHEN_IDLE: 'true',
      TAILSHIP_AUDIT_POLICY: '/etc/tailship/policy.yaml',
      TAILSHIP_WAIT_FOR_INPUTS: 'true',
      TAILSHIP_REDACT: 'secrets',
      TAILSHIP_REDACT_KEY: KEY_FILE,
      TAILSHIP_MAX_EVENT_BYTES: '1M',
      // webhook (SPEC §8)
      TAILSHIP_WEBHOOK_LISTEN: '127.0.0.1:8443',
      TAILSHIP_WEBHOOK_TLS_CERT: '/tls/tls.crt',
      TAILSHIP_WEBHOOK_TLS_KEY: '/tls/tls.key',
      TAILSHIP_WEBHOOK_CLIENT_CA: '/tls/ca.crt',
      TAILSHIP_WEBHOOK_KEY: 'kube-audit',
      TAILSHIP_WEBHOOK_TIMEOUT: '10s',
      TAILSHIP_INPUT_DOWN_GRACE: '2s',
    };
    const fromEnv = parseCommandLine([], env).options;
    expect(fromEnv).toEqual({
      envFiles: ['a.env', 'b.env'],
      manifests: '/etc/kubernetes/manifests',
      hostRoot: '/host',
      stateDir: '/var/lib/tailship',
      sink: 'stdout:',
      sinks: ['stdout:'],
      listen: 'off',
      startAt: 'end',
      backfill: true,
      maxLineBytes: 1048576,
      batchMaxEvents: 10,
      batchMaxBytes: 2048,
      batchMaxWait: 5000,
      shutdownGrace: 0,
      logLevel: 'debug',
      maxInflightBytes: 4194304,
      exitWhenIdle: true,
      auditPolicy: '/etc/tailship/policy.yaml',
      waitForInputs: true,
      redact: 'secrets',
      redactKey: KEY_FILE,
      maxEventBytes: 1048576,
      webhookListen: '127.0.0.1:8443',
      webhookTlsCert: '/tls/tls.crt',
      webhookTlsKey: '/tls/tls.key',
      webhookClientCa: '/tls/ca.crt',
      webhookKey: 'kube-audit',
      webhookTimeout: 10000,
      inputDownGrace: 2000,
    });
    expect(Object.keys(env).sort()).toEqual(FLAGS.map((f) => f.env).sort());

    const flags = parseCommandLine(
      [
        'run',
        '--env-file', 'c.env',
        '--env-file=d.env',
        '--manifests=/m',
        '--host-root', '',
        '--state-dir', './s',
        '--sink=http://127.0.0.1:9/x?gzip=false',
        '--listen', '127.0.0.1:0',
        '--start-at=beginning',
        '--backfill=false',
        '--max-line-bytes', '100',
        '--batch-max-events=1',
        '--batch-max-bytes', '64KiB',
        '--batch-max-wait', '250ms',
        '--shutdown-grace=2s',
        '--log-level', 'warn',
        '--max-inflight-bytes', '1G',
        '--exit-when-idle=false',
        '--audit-policy', 'p.yaml',
        '--redact', 'all',
        '--redact-key', KEY_FILE,
        '--max-event-bytes=0',
        '--input-down-grace', '500ms',
      ],
      env,
    ).options;
    expect(flags).toEqual({
      envFiles: ['c.env', 'd.env'],
      manifests: '/m',
      hostRoot: '',
      stateDir: './s',
      sink: 'http://127.0.0.1:9/x?gzip=false',
      sinks: ['http://127.0.0.1:9/x?gzip=false'],
      listen: '127.0.0.1:0',
      startAt: 'beginning',
      backfill: false,
      maxLineBytes: 100,
      batchMaxEvents: 1,
      batchMaxBytes: 65536,
      batchMaxWait: 250,
      shutdownGrace: 2000,
      logLevel: 'warn',
      maxInflightBytes: 1073741824,
      exitWhenIdle: false,
      auditPolicy: 'p.yaml',
      waitForInputs: true, // from the env: no flag given
      redact: 'all',
      redactKey: KEY_FILE,
      maxEventBytes: 0,
      webhookListen: '127.0.0.1:8443',
      webhookTlsCert: '/tls/tls.crt',
      webhookTlsKey: '/tls/tls.key',
      webhookClientCa: '/tls/ca.crt',
      webhookKey: 'kube-audit',
      webhookTimeout: 10000,
      inputDownGrace: 500,
    });
  });

  test('bare boolean flags, empty env values mean unset, IPv6 listen', () => {
    const o = parseCommandLine(['--backfill', '--exit-when-idle', '--listen', '[::1]:2020'], { TAILSHIP_SINK: '', TAILSHIP_BACKFILL: 'false' }).options;
    expect(o.backfill).toBe(true);
    expect(o.exitWhenIdle).toBe(true);
    expect(o.listen).toBe('[::1]:2020');
    expect(o.sink).toBe(DEFAULT_OPTIONS.sink);
  });

  test.each([
    [['--batch-max-events', 'abc'], {}, '--batch-max-events', 'whole number'],
    [['--batch-max-events=0'], {}, '--batch-max-events', 'whole number'],
    [[], { TAILSHIP_BATCH_MAX_BYTES: '-5' }, 'TAILSHIP_BATCH_MAX_BYTES', 'K, M or G'],
    [['--max-line-bytes', '1.5M'], {}, '--max-line-bytes', 'e.g. --max-line-bytes 16777216'],
    [['--listen', '2020'], {}, '--listen', 'HOST:PORT'],
    [['--listen', '127.0.0.1:70000'], {}, '--listen', '65535'],
    [['--start-at', 'middle'], {}, '--start-at', 'beginning or'],
    [[], { TAILSHIP_START_AT: 'now' }, 'TAILSHIP_START_AT', 'TAILSHIP_START_AT=beginning'],
    [['--log-level', 'loud'], {}, '--log-level', 'one of fatal'],
    [['--sink', 'ftp://x'], {}, '--sink', 'sls://ENDPOINT'],
    [['--sink', 'file:'], {}, '--sink', 'names no directory'],
    [[], { TAILSHIP_BACKFILL: 'maybe' }, 'TAILSHIP_BACKFILL', 'TAILSHIP_BACKFILL=true or false'],
    [['--sinks', 'stdout:'], {}, '--sinks', 'did you mean --sink?'],
    [['--sink'], {}, '--sink', 'needs a value'],
    [['--sink', '--listen', 'off'], {}, '--sink', 'needs a value'],
    [['--listen', 'off', '--listen=127.0.0.1:1'], {}, '--listen', 'more than once'], // --sink is repeatable (SPEC §10)
    [['-s'], {}, '-s', 'two dashes'],
    [['confg'], {}, 'confg', 'did you mean config?'],
    [['run', 'extra'], {}, 'extra', 'unexpected argument'],
    [['--manifests='], {}, '--manifests', 'is empty'],
    [['--env-file='], {}, '--env-file', 'is empty'],
    [['--json=yes'], {}, '--json', 'takes no value'],
    [['--max-inflight-bytes', '1M'], {}, '--max-inflight-bytes', 'at least 3145728'],
  ] as Array<[string[], NodeJS.ProcessEnv, string, string]>)('usage error: %j %j names %s (%s)', (argv, env, flag) => {
    const err = usage(argv, env);
    expect(err.code).toBe(ErrorCodes.CONFIG_FLAG);
    expect(err.flag).toBe(flag);
    expect(err.message).not.toContain('\n');
  });

  test('a sink with credentials is not echoed in a usage error', () => {
    const msg = usage(['--sink', 'ftp://user:s3cret@host/?header.Authorization=Bearer%20abc']).message;
    expect(msg).not.toContain('s3cret');
    expect(msg).not.toContain('Bearer');
  });

  test('HELP_TEXT lists every flag with its env var and default', () => {
    for (const f of FLAGS) {
      expect(HELP_TEXT).toContain(f.flag);
      expect(HELP_TEXT).toContain(f.env);
    }
    for (const d of ['./.tailship-state', 'file:./tailship-out', '127.0.0.1:2020', '16777216', '4096', '3145728', '10000', '16777216']) {
      expect(HELP_TEXT).toContain(`(default: ${d})`);
    }
    expect(HELP_TEXT).toContain('--json');
  });
});
