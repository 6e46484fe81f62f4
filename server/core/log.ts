import pino from 'pino';

export type Logger = pino.Logger;

/** `toStderr` for CLI commands, whose stdout is their result (e.g. `course:list --json`). */
export function createLogger(level: pino.LevelWithSilent, name = 'lms', toStderr = false): Logger {
  return pino({ name, level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, toStderr ? pino.destination(2) : undefined);
}
