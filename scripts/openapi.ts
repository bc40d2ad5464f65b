/**
 * `npm run openapi [-- <file>]`: writes the OpenAPI document (the one
 * GET /openapi.json serves) to a file, openapi.json by default.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { openApiDocument } from '../lib/openapi/document.js';

const target = resolve(process.argv[2] ?? 'openapi.json');
writeFileSync(target, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
console.log(`Wrote ${target}`);
