/**
 * The validators' verdict on packaged templates and the OpenAPI document, one
 * finding per line, as JSON on standard output: cdk-nag's findings no
 * suppression covers, @aws/cloudformation-validate's errors and unexplained
 * warnings, and every Spectral and Redocly problem, exactly what the tests
 * fail on. Run by ./latest.ts twice: with the pinned versions, and with
 * ./resolve-from.ts resolving the validation packages from a folder holding
 * the latest ones (CATS_VALIDATORS_FROM, whose .bin has the CLIs too).
 *
 * Usage: node --import tsx scripts/validators/findings.ts <openapi.json> <name>=<template.json>...
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { nagFindings } from '../../test/deploy/cdk-nag.js';
import { validateTemplateFile } from '../../test/deploy/cfn-validate.js';
import { unexplained } from '../../test/deploy/cfn-validate-explained.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = path.join(process.env.CATS_VALIDATORS_FROM ?? root, 'node_modules/.bin');

/** A CLI's standard output, whether it passed or not. */
async function output(command: string, args: string[]): Promise<string> {
  try {
    return (await promisify(execFile)(path.join(bin, command), args, { cwd: root, maxBuffer: 64 << 20 })).stdout;
  } catch (error) {
    return (error as { stdout?: string }).stdout ?? '';
  }
}

const [document, ...templates] = process.argv.slice(2);
if (!document || templates.length === 0) throw new Error('usage: findings.ts <openapi.json> <name>=<template.json>...');
const findings: string[] = [];
for (const pair of templates) {
  const [name, file] = pair.split('=') as [string, string];
  for (const f of nagFindings(file)) findings.push(`cdk-nag ${name}: ${f.rule} on ${f.resource}`);
  for (const d of validateTemplateFile(file)) {
    if (d.severity !== 'WARN' || unexplained([d]).length > 0) {
      findings.push(`cloudformation-validate ${name}: ${d.severity} ${d.rule} on ${d.entity ?? '(template)'}`);
    }
  }
}
const folder = await mkdtemp(path.join(tmpdir(), 'cats-validators-'));
try {
  const spectralFile = path.join(folder, 'spectral.json');
  const ruleset = ['--ruleset', path.join(root, '.spectral.yaml'), '--format', 'json', '--output', spectralFile];
  await output('spectral', ['lint', ...ruleset, document]);
  const spectral = JSON.parse(await readFile(spectralFile, 'utf8').catch(() => '[]')) as {
    code: string;
    path: string[];
  }[];
  for (const p of spectral) findings.push(`spectral: ${p.code} at ${p.path.join('.')}`);
} finally {
  await rm(folder, { recursive: true, force: true });
}
const redocly = await output('redocly', [
  'lint',
  '--config',
  path.join(root, 'redocly.yaml'),
  '--format',
  'json',
  document,
]);
const report = JSON.parse(redocly || '{"problems":[]}') as {
  problems: { ruleId: string; severity: string; location?: { pointer?: string }[] }[];
};
for (const p of report.problems) {
  findings.push(`redocly: ${p.severity} ${p.ruleId} at ${p.location?.[0]?.pointer ?? '(document)'}`);
}
process.stdout.write(`${JSON.stringify(findings)}\n`);
