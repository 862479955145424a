import pino, { type DestinationStream, type Level, type Logger } from 'pino';

/** The process's one pino logger; everything logs through it (AppLogger, request lines). */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/** Field paths never written out, whichever object carries them. */
const REDACTED = ['*.authorization', '*.cookie', '*.password', '*.apiKey', '*.refreshToken'];

/** Structured JSON lines at `level` to stdout (or `destination`). */
export function createRootLogger(level: Level | 'silent', destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACTED, censor: '[REDACTED]' } };
  return destination ? pino(options, destination) : pino(options);
}
