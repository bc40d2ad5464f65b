/**
 * The GitHub Actions workflows (.github/workflows): they pass actionlint, the
 * workflow JSON schema and the hardening rules (scripts/lint-workflows.ts,
 * which CI runs too), each check finds what it is there to find, and the
 * pipeline has the shape docs/github-actions.md describes.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: GitHub expressions: ${{ ... }} is the workflow's syntax, not a template literal
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { lintWorkflow, workflowFiles } from '../../scripts/lint-workflows.js';
import { root } from '../support/bundle.js';

const workflow = (name: string): any => parse(readFileSync(path.join(root, '.github/workflows', name), 'utf8'));

it("passes actionlint, the workflow schema and the project's hardening rules", async () => {
  const files = workflowFiles();
  expect(files.map((file) => path.basename(file))).toEqual(['checks.yml', 'deploy-stage.yml', 'deploy.yml']);
  for (const file of files) expect(await lintWorkflow(file)).toEqual([]);
}, 60000);

it('finds a broken workflow: untrusted input in a script, a misspelt key, unpinned actions, a secret, no permissions', async () => {
  const bad = [
    'name: bad',
    'on: push',
    'jobs:',
    '  deploy:',
    '    runs-on: ubuntu-24.04',
    '    environment: prod',
    '    steps:',
    '      - uses: actions/checkout@v4',
    '      - run: echo "${{ github.event.head_commit.message }}"',
    '      - run: echo ${{ secrets.AWS_SECRET_ACCESS_KEY }}',
    '      - uses: actions/setup-node@820762786026740c76f36085b0efc47a31fe5020',
    '    bogus-key: 1',
    '',
  ].join('\n');
  const problems = await lintWorkflow(path.join(root, '.github/workflows/bad.yml'), bad);
  const found = (rule: string, line: number, text: string) =>
    expect(problems).toContainEqual(expect.objectContaining({ rule, line, message: expect.stringContaining(text) }));
  found('actionlint expression', 9, 'potentially untrusted');
  found('actionlint syntax-check', 12, 'unexpected key "bogus-key"');
  found('schema', 1, '/jobs/deploy');
  found('permissions', 1, 'no top-level');
  found('permissions', 4, 'job deploy has no');
  found('concurrency', 4, 'cancel-in-progress: false');
  found('pinning', 8, 'actions/checkout@v4 is not pinned');
  found('credentials', 8, 'persist-credentials');
  found('pinning', 11, 'no "# vX.Y.Z" comment');
  found('secrets', 10, 'store no secret');
}, 60000);

it('checks every pull request and push with .ci/run itself, on the Node of .nvmrc', () => {
  const checks = workflow('checks.yml');
  expect(Object.keys(checks.on).sort()).toEqual(['pull_request', 'push']);
  expect(checks.on.push).toBeNull(); // every branch
  const steps = checks.jobs.checks.steps;
  expect(steps.at(-1).run).toBe('bash .ci/run');
  expect(
    steps.find((s: { uses?: string }) => s.uses?.startsWith('actions/setup-node@')).with['node-version-file'],
  ).toBe('.nvmrc');
  expect(checks.jobs.checks.permissions).toEqual({ contents: 'read' });
});

it('deploys dev on a push to main, then prod after it, one run per stage at a time and never cancelled', () => {
  const deploy = workflow('deploy.yml');
  expect(deploy.on.push).toEqual({ branches: ['main'] });
  expect(deploy.jobs.dev.with.stage).toBe('dev');
  expect(deploy.jobs.prod).toEqual(
    expect.objectContaining({ needs: 'dev', with: expect.objectContaining({ stage: 'prod' }) }),
  );
  const stage = workflow('deploy-stage.yml').jobs.deploy;
  // The environment carries prod's required reviewers and the main-only branch rule.
  expect(stage.environment).toBe('${{ inputs.stage }}');
  expect(stage.concurrency).toEqual({ group: 'deploy-${{ inputs.stage }}', 'cancel-in-progress': false });
  expect(stage.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
  const runs = stage.steps.map((s: { run?: string }) => s.run).filter(Boolean);
  const deployAt = runs.findIndex((run: string) => run.startsWith('npm run deploy -- --stage "$STAGE"'));
  const smokeAt = runs.findIndex((run: string) => run.startsWith('npm run smoke -- --stage "$STAGE"'));
  expect(deployAt).toBeGreaterThanOrEqual(0);
  expect(smokeAt).toBeGreaterThan(deployAt);
  const credentials = stage.steps.find((s: { uses?: string }) =>
    s.uses?.startsWith('aws-actions/configure-aws-credentials@'),
  );
  expect(credentials.with['role-to-assume']).toBe('${{ vars.AWS_DEPLOY_ROLE_ARN }}');
  expect(Object.keys(credentials.with)).not.toContain('aws-secret-access-key');
});
