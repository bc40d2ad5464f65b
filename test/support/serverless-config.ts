/**
 * What serverless.yml declares, read from the file itself so that tests take
 * their lists of functions and routes from the project rather than from a
 * copy: a function added there is checked here without editing any test.
 * The `functions:` block is read line by line (two-space indentation, one
 * key per line, as the file is written); anything unexpected throws.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface DeclaredFunction {
  /** Its key in `functions:`, e.g. getCat. */
  name: string;
  /** Its file in functions/, without the extension, e.g. get-cat. */
  file: string;
  /** It has a `database:` entry (the database settings, a share of the connections). */
  database: boolean;
  /** Its HTTP API routes, e.g. GET /cats/{id}. */
  routes: string[];
}

export function declaredFunctions(): DeclaredFunction[] {
  const yml = readFileSync(`${root}serverless.yml`, 'utf8');
  const block = /^functions:\n((?:(?: {2}.*)?\n)+)/m.exec(yml)?.[1];
  if (!block) throw new Error('serverless.yml has no functions: block');
  const functions: DeclaredFunction[] = [];
  let current: Omit<DeclaredFunction, 'file'> & { file?: string } = { name: '', database: false, routes: [] };
  const finish = () => {
    if (!current.name) return;
    if (!current.file)
      throw new Error(`serverless.yml: function ${current.name} has no handler: functions/<file>.handler`);
    functions.push(current as DeclaredFunction);
  };
  for (const line of block.split('\n')) {
    const name = /^ {2}(\w+):\s*$/.exec(line)?.[1];
    if (name) {
      finish();
      current = { name, database: false, routes: [] };
      continue;
    }
    const handler = /^ {4}handler: functions\/([\w-]+)\.handler\s*$/.exec(line)?.[1];
    if (handler) current.file = handler;
    if (/^ {4}database:/.test(line)) current.database = true;
    const route = /^ {6}- httpApi: (\S+ \S+)\s*$/.exec(line)?.[1];
    if (route) current.routes.push(route);
  }
  finish();
  if (functions.length === 0) throw new Error('serverless.yml: no function found in functions:');
  return functions;
}
