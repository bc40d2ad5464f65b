/**
 * Third-party linters on the generated OpenAPI document: Spectral's
 * `spectral:oas` (.spectral.yaml) and Redocly's `recommended` (redocly.yaml),
 * with no rule turned off. Any error or warning fails, for npm start's
 * document and for a deployed stage's (its Cognito token URL, reads closed).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openApiDocument } from '../../lib/openapi/document.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
let folder: string;
const documents = {
  local: () => openApiDocument(),
  deployed: () =>
    openApiDocument('reads-and-writes', {
      tokenUrl: 'https://cats-api-prod-123456789012.auth.eu-west-1.amazoncognito.com/oauth2/token',
    }),
};

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cats-openapi-lint-'));
  for (const [name, document] of Object.entries(documents)) {
    await writeFile(join(folder, `${name}.json`), JSON.stringify(document(), null, 2));
  }
});
afterAll(() => rm(folder, { recursive: true, force: true }));

/** The command's exit code and standard output, whether it passed or not. */
async function output(command: string, args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(join(root, 'node_modules/.bin', command), args, { cwd: root });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '' };
  }
}

describe.each(Object.keys(documents))('the %s document', (name) => {
  const file = () => join(folder, `${name}.json`);
  it("passes Spectral's spectral:oas rules with no error, warning or hint", async () => {
    const result = await output('spectral', [
      'lint',
      '--ruleset',
      join(root, '.spectral.yaml'),
      '--fail-severity',
      'hint',
      '--format',
      'json',
      '--output',
      join(folder, `${name}.spectral.json`),
      file(),
    ]);
    const findings = JSON.parse(await readFile(join(folder, `${name}.spectral.json`), 'utf8')) as unknown[];
    expect(findings).toEqual([]);
    expect(result.code).toBe(0);
  }, 60000);

  it("passes Redocly's recommended rules with no error or warning", async () => {
    const result = await output('redocly', [
      'lint',
      '--config',
      join(root, 'redocly.yaml'),
      '--format',
      'json',
      file(),
    ]);
    const report = JSON.parse(result.stdout) as { totals: object; problems: unknown[] };
    expect(report.problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    expect(result.code).toBe(0);
  }, 60000);
});
