import { pino, stdTimeFunctions, type Logger } from 'pino';
import pretty from 'pino-pretty';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type { Logger };

/**
 * One JSON object per line for log collectors; readable lines for a person at a terminal. The
 * process's own stdout, when it is no terminal, is written asynchronously (pino.destination):
 * a synchronous write per admission decision held up every request behind the disk or the
 * container runtime's pipe. Lines written while a write is under way leave together in the
 * next, and pino writes out what is left when the process exits.
 */
export function createLogger(level: LogLevel, destination: NodeJS.WritableStream & { isTTY?: boolean }): Logger {
  const options = { level, timestamp: stdTimeFunctions.isoTime, formatters: { level: (label: string) => ({ level: label }) } };
  if (destination.isTTY) {
    return pino(options, pretty({ destination, sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,event' }));
  }
  if (destination === process.stdout) return pino(options, pino.destination({ dest: process.stdout.fd, sync: false }));
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

/**
 * Writes lines that another logger of this process has already formatted where `logger` writes:
 * the audit's worker thread logs its JSON lines through the main thread, so that the process has
 * one destination, and at a terminal one readable format (pino-pretty reads JSON lines).
 */
export function writeFormattedLines(logger: Logger, lines: string): void {
  const destination = (logger as unknown as Record<symbol, { write(text: string): unknown }>)[pino.symbols.streamSym];
  destination?.write(lines);
}
