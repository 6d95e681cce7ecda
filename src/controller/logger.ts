// The process logger: pino, JSON lines on stdout, level from LOG_LEVEL (default info). Reconcilers
// take children keyed by kind, namespace and name.
import { pino, type Logger } from 'pino';

export function makeLogger(component: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { component }, timestamp: pino.stdTimeFunctions.isoTime });
}

export type { Logger };
