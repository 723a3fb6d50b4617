import { pino, type Logger } from 'pino';

/** Paths pino blanks out wherever they appear: secrets never reach a log line. */
export const REDACT = [
  'token',
  'authorization',
  'password',
  'secret',
  '*.token',
  '*.authorization',
  '*.password',
  '*.secret',
  'req.headers.authorization',
  'headers.authorization',
  'config.apiTokens',
  'registryAuth',
  '*.registryAuth',
];

/** The one root logger: JSON lines on stdout (or a given stream, for tests). */
export function createLogger(level = 'info', dest?: NodeJS.WritableStream): Logger {
  return pino({ level, base: { app: 'dockops' }, redact: { paths: REDACT, censor: '[redacted]' } }, dest as never);
}
