/**
 * Every relative link in the README, BENCHMARKS.md and the topic pages under
 * docs/ leads somewhere: the file exists and, for a `#fragment`, the page has
 * a heading with that anchor (GitHub's rule: lower case, punctuation dropped,
 * spaces to dashes, a repeated heading gets -1, -2...). A page moved or a
 * heading renamed fails here instead of leaving a reader at a dead link.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

const pages = [
  'README.md',
  'BENCHMARKS.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** The page's text outside fenced code blocks, where a `[x](y)` is not a link. */
function prose(text: string): string {
  let fenced = false;
  return text
    .split('\n')
    .filter((line) => {
      if (/^\s*```/.test(line)) {
        fenced = !fenced;
        return false;
      }
      return !fenced;
    })
    .join('\n');
}

function githubAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of prose(markdown).split('\n')) {
    const heading = /^#{1,6} (.+?)\s*#*$/.exec(line);
    if (!heading) continue;
    const text = heading[1].replace(/`/g, '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

function links(markdown: string): string[] {
  const found: string[] = [];
  // Inline code may show link syntax without being a link.
  const text = prose(markdown).replace(/`[^`\n]*`/g, '');
  for (const match of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) found.push(match[1]);
  return found.filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

describe.each(pages)('%s', (page) => {
  const file = join(root, page);
  const text = readFileSync(file, 'utf8');

  it('links only to files that exist and to headings those pages have', () => {
    const broken: string[] = [];
    for (const target of links(text)) {
      const [path, fragment] = target.split('#', 2);
      const destination = path === '' ? file : resolve(dirname(file), decodeURI(path));
      if (!existsSync(destination)) {
        broken.push(`${target}: no ${relative(root, destination)}`);
        continue;
      }
      if (fragment === undefined || !destination.endsWith('.md') || statSync(destination).isDirectory()) continue;
      if (!githubAnchors(readFileSync(destination, 'utf8')).has(fragment)) {
        broken.push(`${target}: ${relative(root, destination)} has no heading #${fragment}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

it('keeps the README a front door: at most 250 lines, linking every topic page', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  expect(readme.split('\n').length).toBeLessThanOrEqual(250);
  const linked = new Set(links(readme).map((target) => target.split('#')[0]));
  const missing = pages.filter((page) => page.startsWith('docs/') && !linked.has(page));
  expect(missing).toEqual([]);
});

it('finds the anchors GitHub makes, repeated headings and punctuation included', () => {
  expect([
    ...githubAnchors('# A page\n## What it costs (us-east-1, rough)\n## Logs\n## Logs\n```\n# not a heading\n```'),
  ]).toEqual(['a-page', 'what-it-costs-us-east-1-rough', 'logs', 'logs-1']);
});
