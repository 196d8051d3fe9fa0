import pino, { type Logger, type LoggerOptions } from 'pino';

/**
 * Field names whose values never reach a log line. pino's redaction matches exact paths, so the common depths
 * are listed; activity inputs are logged only through `safeInput` in activities, never whole.
 */
const SECRET_KEYS = ['password', 'secret', 'token', 'apiKey', 'privateKey', 'key', 'authorization', 'passwordHash', 'codecKey'];
export const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
  ...SECRET_KEYS.map((k) => `*[*].${k}`),
  ...SECRET_KEYS.map((k) => `*.*[*].${k}`),
  'req.headers.authorization',
  'req.headers.cookie',
];

export function createLogger(service: string, options: LoggerOptions = {}): Logger {
  return pino({
    level: process.env.NPANEL_LOG_LEVEL ?? 'info',
    base: { service, node: process.env.NPANEL_NODE_ID ?? undefined, pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...options,
  });
}
