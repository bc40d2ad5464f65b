/**
 * `npm start`'s readable view of the functions' JSON logs: one line per
 * request (`GET /cats/1 -> 200 in 4 ms`), warnings and errors in a sentence
 * with their stack, and serverless-offline's own per-invocation chatter
 * dropped. The request line is also the request's metrics (CloudWatch Embedded
 * Metric Format, lib/metrics.ts), as are the cold-start and 503 lines: the
 * metrics are hidden unless LOG_METRICS=1 asks for them, then shown in a
 * line of their own under the request's. LOG_FORMAT=json shows everything as
 * it is.
 */

interface LogLine {
  level?: string;
  message?: string;
  timestamp?: string;
  requestId?: string;
  route?: string;
  path?: string;
  status?: number;
  durationMs?: number;
  sub?: string;
  clientId?: string;
  error?: { name?: string; message?: string; stack?: string };
}

// serverless-offline prints these for every invocation; our request line says more.
const offlineChatter = [
  /^\s*\(λ: \w+\) RequestId: /,
  /^\s*(GET|POST|PUT|PATCH|DELETE|OPTIONS|HEAD|ANY) \S+ \(λ: \w+\)\s*$/,
  // Its JWT authorizer's lines for an accepted token; a refusal's reason stays.
  /^Running JWT Authorization function for /,
  /^JWT Token validated$/,
  // ... and the stack it prints under "JWT could not be decoded" (no token, or not a JWT): that line says enough.
  /^× \{ JWTInvalid: /,
  /^\s+at Object\.authenticate \(.*createJWTAuthScheme\.js/,
  /^\s+code: 'ERR_JWT_INVALID' \}$/,
  // The same stack in the form a first `npm start` prints it (a request with no token at all).
  /^\s+at .*[\\/]node_modules[\\/](jose|@hapi[\\/]hapi)[\\/]/,
];

interface MetricsLine {
  _aws: {
    Timestamp?: number;
    CloudWatchMetrics?: Array<{ Dimensions?: string[][]; Metrics?: Array<{ Name: string; Unit?: string }> }>;
  };
  [key: string]: unknown;
}

const isMetrics = (entry: object): entry is MetricsLine =>
  typeof (entry as MetricsLine)._aws === 'object' && (entry as MetricsLine)._aws !== null;

/** `13:20:35 metrics GET /cats/{id}: Requests 1, Latency 4 ms, ...`: the dimensions' values, then each metric. */
function formatMetrics(entry: MetricsLine): string {
  const time = entry._aws.Timestamp === undefined ? '' : new Date(entry._aws.Timestamp).toISOString().slice(11, 19);
  const [definition] = entry._aws.CloudWatchMetrics ?? [];
  const where = (definition?.Dimensions?.[0] ?? [])
    .filter((name) => name !== 'service')
    .map((name) => String(entry[name]))
    .join(' ');
  const values = (definition?.Metrics ?? []).map(({ Name, Unit }) => {
    const unit = Unit === 'Milliseconds' ? ' ms' : '';
    return `${Name} ${JSON.stringify(entry[Name])}${unit}`;
  });
  return `${time} metrics${where ? ` ${where}` : ''}: ${values.join(', ')}`;
}

export interface LogViewOptions {
  /** Show the metrics lines (one readable line each) instead of dropping them. */
  metrics?: boolean;
}

/** The text to print for one line of output, or null to drop it. */
export function formatLogLine(line: string, options: LogViewOptions = {}): string | null {
  if (offlineChatter.some((pattern) => pattern.test(line))) return null;
  if (!line.startsWith('{')) return line;
  let entry: LogLine;
  try {
    entry = JSON.parse(line);
  } catch {
    return line;
  }
  const time = entry.timestamp?.slice(11, 19) ?? '';
  if (entry.message === 'request' && entry.path !== undefined) {
    const method = entry.route?.split(' ')[0] ?? '';
    const caller = entry.sub
      ? `  by ${entry.clientId && entry.clientId !== entry.sub ? `${entry.sub} (client ${entry.clientId})` : entry.sub}`
      : '';
    const request = `${time} ${method} ${entry.path} -> ${entry.status} in ${entry.durationMs} ms  [${entry.requestId}]${caller}`;
    return options.metrics && isMetrics(entry) ? `${request}\n${formatMetrics(entry)}` : request;
  }
  if (isMetrics(entry)) return options.metrics ? formatMetrics(entry) : null;
  const level = entry.level ?? 'INFO';
  const error = entry.error ? `\n${entry.error.stack ?? `${entry.error.name}: ${entry.error.message}`}` : '';
  const request = entry.requestId ? `  [${entry.requestId}]` : '';
  return `${time} ${level} ${entry.message ?? line}${request}${error}`;
}
