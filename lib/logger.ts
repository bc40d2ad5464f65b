import { Logger } from '@aws-lambda-powertools/logger';

/**
 * Structured JSON logs (one object per line), which CloudWatch Logs Insights
 * can query. Level from POWERTOOLS_LOG_LEVEL (or LOG_LEVEL), default INFO.
 */
export const logger = new Logger({ serviceName: 'cats-api' });
