/**
 * GET /docs (and GET /docs/{asset}): an interactive reference of this API,
 * Swagger UI rendering GET /openapi.json. Its assets come from the
 * swagger-ui-dist package and are served by this function (no CDN), so the
 * page works offline and under a strict Content-Security-Policy.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { httpRoute, type Reply } from '../lib/http/handler.js';
import { notFoundProblem } from '../lib/http/problem.js';

// Swagger UI reads the document from our own origin and lets a reader send
// requests to it ("Try it out"); no inline script, so 'self' is enough for
// scripts. Its styles set inline style attributes.
const contentSecurityPolicy: Record<string, string | false> = {
  'default-src': "'self'",
  'script-src': "'self'",
  'style-src': "'self' 'unsafe-inline'",
  'img-src': "'self' data:",
  'connect-src': "'self'",
  'form-action': "'self'",
  sandbox: false,
  'navigate-to': false,
  'report-to': false,
  'require-trusted-types-for': false,
  'trusted-types': false,
  'upgrade-insecure-requests': false,
};

const page = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>The Cats API</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

const init = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true, tryItOutEnabled: false });\n`;

// A Map, not an object literal: the asset name comes from the client, and
// `constructor` or `__proto__` would find Object.prototype's members there.
const assets = new Map<string, { file?: string; text?: string; type: string }>([
  ['swagger-ui-bundle.js', { file: 'swagger-ui-bundle.js', type: 'text/javascript; charset=utf-8' }],
  ['swagger-ui.css', { file: 'swagger-ui.css', type: 'text/css; charset=utf-8' }],
  ['init.js', { text: init, type: 'text/javascript; charset=utf-8' }],
]);

// In Lambda the package is in the zip's node_modules (serverless.yml); from
// the sources or .esbuild, Node's resolution finds the project's.
let assetFolder: string | undefined;
const folder = () => {
  assetFolder ??= dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  return assetFolder;
};
const cache = new Map<string, string>();

export const handler = httpRoute(
  async (event): Promise<Reply> => {
    const name = event.pathParameters?.asset;
    if (name === undefined) {
      return { status: 200, text: page, headers: { 'content-type': 'text/html; charset=utf-8' } };
    }
    const asset = assets.get(name);
    if (!asset) throw notFoundProblem(`docs asset ${JSON.stringify(name)}`);
    let text = cache.get(name);
    if (text === undefined) {
      text = asset.text ?? readFileSync(join(folder(), asset.file ?? name), 'utf8');
      cache.set(name, text);
    }
    return { status: 200, text, headers: { 'content-type': asset.type, 'cache-control': 'public, max-age=3600' } };
  },
  { contentSecurityPolicy },
);
