import { Logger, LogLevelThreshold } from '@aws-lambda-powertools/logger';

let instance: Logger | undefined;
/** The lowest level written; nothing here changes it after construction. */
let threshold = 0;

/**
 * Powertools' Logger does real work when constructed (reads its environment,
 * builds a Console over stdout/stderr): ~6 ms of a cold start on this machine.
 * A handler that succeeds logs nothing, so it is built on the first line
 * written instead of at import.
 */
function powertools(): Logger {
  if (instance === undefined) {
    instance = new Logger({ serviceName: 'cats-api' });
    threshold = instance.level;
  }
  return instance;
}

type Write = (message: string, attributes?: Record<string, unknown>) => void;
type Level = 'debug' | 'info' | 'warn' | 'error';

const write = (level: Level): Write => {
  const rank = LogLevelThreshold[level.toUpperCase() as Uppercase<Level>];
  return (message, attributes) => {
    const target = powertools();
    // Powertools reads the environment twice before dropping a line below its
    // level: the request line at WARN cost a warm request ~8 µs for nothing.
    if (rank < threshold) return;
    if (attributes === undefined) target[level](message);
    else target[level](message, attributes);
  };
};

/**
 * Structured JSON logs (one object per line), which CloudWatch Logs Insights
 * can query. Level from POWERTOOLS_LOG_LEVEL (or LOG_LEVEL), default INFO.
 * The request line is not written through here but in the same shape
 * (lib/metrics.ts, requestMetrics); `writes` tells it whether a level is on.
 */
export const logger: Record<Level, Write> & { writes(level: Level): boolean } = {
  debug: write('debug'),
  info: write('info'),
  warn: write('warn'),
  error: write('error'),
  writes: (level) => {
    powertools();
    return LogLevelThreshold[level.toUpperCase() as Uppercase<Level>] >= threshold;
  },
};
