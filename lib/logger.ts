import { Logger } from '@aws-lambda-powertools/logger';

let instance: Logger | undefined;

/**
 * Powertools' Logger does real work when constructed (reads its environment,
 * builds a Console over stdout/stderr): ~6 ms of a cold start on this machine.
 * A handler that succeeds logs nothing, so it is built on the first line
 * written instead of at import.
 */
function powertools(): Logger {
  instance ??= new Logger({ serviceName: 'cats-api' });
  return instance;
}

type Write = (message: string, attributes?: Record<string, unknown>) => void;
type Level = 'debug' | 'info' | 'warn' | 'error';

const write =
  (level: Level): Write =>
  (message, attributes) =>
    attributes === undefined ? powertools()[level](message) : powertools()[level](message, attributes);

/**
 * Structured JSON logs (one object per line), which CloudWatch Logs Insights
 * can query. Level from POWERTOOLS_LOG_LEVEL (or LOG_LEVEL), default INFO.
 */
export const logger: Record<Level, Write> = {
  debug: write('debug'),
  info: write('info'),
  warn: write('warn'),
  error: write('error'),
};
