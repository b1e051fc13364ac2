import { pino, stdTimeFunctions, type Logger } from 'pino';
import pretty from 'pino-pretty';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type { Logger };

/**
 * One JSON object per line for log collectors; readable lines for a person at a terminal. Both
 * are synchronous, so the last lines before an exit are never lost.
 */
export function createLogger(level: LogLevel, destination: NodeJS.WritableStream & { isTTY?: boolean }): Logger {
  const options = { level, timestamp: stdTimeFunctions.isoTime, formatters: { level: (label: string) => ({ level: label }) } };
  if (destination.isTTY) {
    return pino(options, pretty({ destination, sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,event' }));
  }
  return pino(options, destination);
}

/**
 * The parts of an error that are safe to log: its type, message and stack. Not its other
 * properties, which may hold the input it failed on (a TypeError from `new URL` keeps it).
 */
export function errorFields(error: unknown): { type: string; message: string; stack?: string } {
  if (error instanceof Error) return { type: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}) };
  return { type: typeof error, message: 'a value that is not an Error was thrown' };
}

/** Where JavaScript's own errors quote their input: quoted text and regular expression literals. */
const QUOTED = /"[^"\n]*"|'[^'\n]*'|`[^`\n]*`|\/(?:[^/\\\n]|\\.)+\//g;

/**
 * The same for an error thrown while looking at an object, whose message may quote a field's
 * value (`Unexpected token ... "<value>" is not valid JSON`): quoted parts of the message are
 * blanked, and the stack keeps only its frames.
 */
export function errorFieldsWithoutInput(error: unknown): { type: string; message: string; stack?: string } {
  const { type, message, stack } = errorFields(error);
  const frames = stack?.split('\n').filter((line) => /^\s+at /.test(line)).join('\n');
  return { type, message: message.replace(QUOTED, '"..."'), ...(frames ? { stack: frames } : {}) };
}
