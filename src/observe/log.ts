import pino, { type Logger } from 'pino';

export type { Logger };

/** Keys whose values are never printed, wherever they appear in a log line's fields. */
const REDACT = [
  'authorization',
  'Authorization',
  '*.authorization',
  '*.Authorization',
  'headers.authorization',
  'accessKeyId',
  'accessKeySecret',
  'securityToken',
  '*.accessKeySecret',
  '*.securityToken',
  'token',
  'password',
];

/** The agent's own logs: pino JSON on stderr (stdout belongs to the `stdout:` sink and `tailship config`). */
export function createLogger(level = 'info'): Logger {
  return pino(
    {
      level,
      base: { name: 'tailship' },
      redact: { paths: REDACT, censor: '[redacted]' },
      // Operators grep these: "level":"warn" and an ISO time, not pino's numbers (issue 10 item 14).
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ fd: 2, sync: true }),
  );
}

/** A logger that prints nothing, for unit tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** True for env names whose values must never be shown (SPEC: KEY/SECRET/TOKEN/PASSWORD, Authorization). */
export function isSecretName(name: string): boolean {
  return /KEY|SECRET|TOKEN|PASSWORD|AUTHORIZATION|CREDENTIAL/i.test(name) && !/^(aliyun|loong)_logs_/i.test(name);
}
