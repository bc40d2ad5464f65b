/**
 * Nothing in the repository holds a credential: no AWS access key id (AKIA
 * long-lived, ASIA temporary), no secret access key, no private key, no
 * GitHub token, no password or secret written as a literal. The deploy uses
 * GitHub's OIDC token and the stack's generated secrets instead
 * (docs/github-actions.md). Every file git tracks is read, this one too: the
 * patterns are built from pieces so that they do not match themselves.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { root } from '../support/bundle.js';

const patterns: [string, RegExp][] = [
  ['an AWS access key id', new RegExp(`\\b(?:${['AK', 'AS'].map((p) => `${p}IA`).join('|')})[A-Z0-9]{16}\\b`)],
  [
    'an AWS secret access key',
    new RegExp(`aws_?${'secret'}_?access_?key["']?\\s*[:=]\\s*["']?[A-Za-z0-9/+]{40}\\b`, 'i'),
  ],
  ['a private key', new RegExp(`-----BEGIN (?:[A-Z]+ )?${'PRIVATE'} KEY-----`)],
  ['a GitHub token', new RegExp(`\\bgh[pousr]_[A-Za-z0-9]{36}\\b|github_${'pat'}_[A-Za-z0-9_]{40,}`)],
  [
    'a literal password, secret or token',
    new RegExp(
      `\\b(?:password|passwd|${'secret'}|client_secret|api_?key|token)["']?\\s*[:=]\\s*["'][A-Za-z0-9/+_.-]{20,}["']`,
      'i',
    ),
  ],
];

/** What each pattern must find, to show it is not blind (assembled, never written whole). */
const samples = [
  `key id ${'AKIA'}${'IOSFODNN7EXAMPLE'}`,
  `aws_${'secret'}_access_key = ${'wJalrXUtnFEMI/K7MDENG/bPxRfiCY'}${'EXAMPLEKEY'}`,
  `-----BEGIN RSA ${'PRIVATE'} KEY-----`,
  `${'ghp'}_${'a'.repeat(36)}`,
  `client_${'secret'}: "${'b'.repeat(24)}"`,
];

function findings(text: string): string[] {
  return patterns.filter(([, pattern]) => pattern.test(text)).map(([what]) => what);
}

it('each pattern finds the credential it is for', () => {
  expect(samples.map((sample) => findings(sample))).toEqual(patterns.map(([what]) => [what]));
});

it('finds no credential in any file the repository tracks', () => {
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
  expect(files.length).toBeGreaterThan(50);
  const found: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(path.join(root, file), 'utf8');
    } catch {
      continue; // deleted in the work tree
    }
    if (text.includes('\0')) continue; // binary
    text.split('\n').forEach((line, index) => {
      for (const what of findings(line)) found.push(`${file}:${index + 1}: ${what}`);
    });
  }
  expect(found).toEqual([]);
});
