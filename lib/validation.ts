/**
 * zod, in its tree-shakable form. `zod/mini` builds the same core schemas as
 * classic `zod` (the checks, messages and issues are the same code), but as
 * functions instead of methods, so esbuild keeps only the checks we use: the
 * classic build put ~440 KB into every bundle (all 40-odd locales, JSON
 * Schema conversion, every method) and took tens of milliseconds to load.
 *
 * Mini configures no locale; classic loads English at import. Importing the
 * one locale file (not `z.locales`, which would bundle them all) keeps the
 * default messages identical. Use it as `import * as z from '../validation.js'`.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());
// zod compiles a fast path for each object schema with `new Function` on its
// first parse: a millisecond or so of every cold start, to save about a
// microsecond per parse of our three-field objects. Not worth it on Lambda.
config({ jitless: true });

// Re-exported name by name (`export *`), never as one namespace object: an
// object that escapes makes esbuild keep every export of zod.
export * from 'zod/mini';
