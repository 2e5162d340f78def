import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

/** pino, pretty on a terminal and JSON lines otherwise; credentials are never written. */
export function createLogger(level: LogLevel, pretty: boolean): Logger {
  return pino({
    level,
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'authorization', '*.token', 'token'],
      censor: '[redacted]',
    },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {}),
  });
}
