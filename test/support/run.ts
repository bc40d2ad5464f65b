/**
 * A command run to its end without blocking the test's event loop, for test
 * files that also talk to an API over HTTP. spawnSync froze the loop for as
 * long as the command ran (seconds, under load); the API's server closed the
 * idle keep-alive connection meanwhile, unseen, and the next request went out
 * on it: "SocketError: other side closed" (stage-issuer.test.ts, issue 20).
 */
import { spawn } from 'node:child_process';

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Only a hang exceeds it: the command is killed and the result says so (status null). */
  timeoutMs: number;
}

export function run(command: string, args: string[], { cwd, env, timeoutMs }: RunOptions): Promise<Ran> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      fail(error);
    });
    child.once('close', (status) => {
      clearTimeout(timer);
      done({ status, stdout, stderr });
    });
  });
}
