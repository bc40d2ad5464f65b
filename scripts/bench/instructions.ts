import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * Instructions a fresh `node` retires, counted by valgrind's callgrind, V8
 * single-threaded, fixed seeds: the same bundle gives the same count every
 * run, whatever else the machine is doing (the bench, bench:devices and the
 * observability rows all count this way).
 */
export async function countInstructions(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let stderr: string;
  try {
    ({ stderr } = await promisify(execFile)(
      'valgrind',
      [
        '--tool=callgrind',
        '--callgrind-out-file=/dev/null',
        process.execPath,
        '--single-threaded',
        '--hash-seed=1',
        '--random-seed=1',
        ...argv,
      ],
      // Valgrind runs node ~50x slower: on a busy machine the 3 s connect
      // timeout could expire (a 503), and so could a minute for the deployed
      // path (section 7: the SDK, TLS, SCRAM). A timer that never fires
      // costs no instruction, so the count is the same.
      { env: { ...env, DB_CONNECT_TIMEOUT_MS: '600000' }, maxBuffer: 10 * 1024 * 1024 },
    ));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('valgrind is not installed (apt-get install valgrind), or pass --no-instructions');
    }
    throw error;
  }
  const count = /Collected : (\d+)/.exec(stderr)?.[1];
  if (!count) throw new Error(`valgrind printed no instruction count: ${stderr.slice(-1500)}`);
  return Number(count);
}
