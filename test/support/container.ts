/**
 * A Lambda container as a fresh `node`: it loads a bundled function (with
 * AWS_LAMBDA_FUNCTION_NAME set, so it connects early as on Lambda), says so,
 * then invokes the handler with one event per line it reads and prints the
 * reply's status, body, Retry-After and the handler's own time.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface ContainerReply {
  status: number;
  body: any;
  retryAfter?: string;
  /** The handler's time, measured in the container. */
  ms: number;
}

export interface Container {
  child: ChildProcessWithoutNullStreams;
  /** The next JSON line: `{ loaded: true }` first, then one reply per invoke(). */
  next(): Promise<any>;
  /** Asks for one invocation. */
  invoke(): void;
}

/** Writes the runner into `folder`; returns its path. */
export async function writeContainerRunner(folder: string): Promise<string> {
  const runner = join(folder, 'container.mjs');
  await writeFile(
    runner,
    `import { createInterface } from 'node:readline';
     const [bundle, event] = process.argv.slice(2);
     const { handler } = await import(bundle);
     console.log(JSON.stringify({ loaded: true }));
     for await (const _ of createInterface({ input: process.stdin })) {
       const started = performance.now();
       const reply = await handler(JSON.parse(event), { awsRequestId: 'container', getRemainingTimeInMillis: () => 15000 });
       const ms = performance.now() - started;
       console.log(JSON.stringify({ status: reply.statusCode, body: JSON.parse(reply.body ?? 'null'), retryAfter: reply.headers?.['retry-after'], ms }));
     }`,
  );
  return runner;
}

/** A fresh container running `bundle` (named `functionName`) on `event`, with `env` on top of a bare environment. */
export function startContainer(
  runner: string,
  bundle: string,
  functionName: string,
  event: unknown,
  env: Record<string, string>,
): Container {
  const child = spawn(process.execPath, [runner, bundle, JSON.stringify(event)], {
    env: {
      PATH: process.env.PATH ?? '',
      AWS_LAMBDA_FUNCTION_NAME: functionName,
      // Only the replies on stdout: no log or metrics lines.
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      ...env,
    },
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    child,
    next: async () => JSON.parse(((await lines.next()).value as string | undefined) ?? 'null'),
    invoke: () => child.stdin.write('\n'),
  };
}
