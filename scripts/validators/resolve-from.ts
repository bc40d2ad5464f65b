/**
 * A module resolution hook (node --import): the validation packages, and
 * whatever they load, come from CATS_VALIDATORS_FROM's node_modules instead
 * of the project's, for import and require alike. ./latest.ts runs
 * ./findings.ts with it to judge the same templates with the latest versions.
 */
import { registerHooks } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { validationTools } from './tools.js';

const from = process.env.CATS_VALIDATORS_FROM;
if (!from) throw new Error('resolve-from.ts needs CATS_VALIDATORS_FROM');
const parentURL = pathToFileURL(path.join(from, 'package.json')).href;

registerHooks({
  resolve(specifier, context, nextResolve) {
    const redirected = validationTools.some((name) => specifier === name || specifier.startsWith(`${name}/`));
    return nextResolve(specifier, redirected ? { ...context, parentURL } : context);
  },
});
