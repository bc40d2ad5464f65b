/**
 * `npm run smoke`, the deploy workflow's check of a stage it just deployed,
 * against `npm start`: it passes on the API as it is, and fails, naming the
 * check, when a route answers wrongly (a stand-in in front of the API breaks
 * one route and passes everything else through).
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { useApi } from '../support/api-process.js';
import { root } from '../support/bundle.js';

const e2e = useApi('cats_smoke');

function runSmoke(url: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/smoke.ts', '--url', url], {
      cwd: root,
      env: { ...process.env, CATS_DATA_DIR: e2e.dataDir, NODE_OPTIONS: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

/** Passes every request through to the API, except those `broken` answers itself. */
async function standIn(
  broken: (method: string, url: string) => { status: number; type: string; body: string } | undefined,
) {
  const server: Server = createServer(async (req, res) => {
    const wrong = broken(req.method ?? 'GET', req.url ?? '/');
    if (wrong) {
      res.writeHead(wrong.status, { 'content-type': wrong.type }).end(wrong.body);
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([name]) => !['host', 'connection', 'content-length'].includes(name)),
    ) as Record<string, string>;
    const reply = await fetch(`${e2e.api.baseUrl}${req.url}`, {
      method: req.method ?? 'GET',
      headers,
      ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
    });
    const body = Buffer.from(await reply.arrayBuffer());
    res.writeHead(reply.status, { 'content-type': reply.headers.get('content-type') ?? 'text/plain' }).end(body);
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

/** The smoke-test cats there are: a run that fails its DELETE (a test below) leaves its cat behind. */
async function smokeCats(): Promise<unknown[]> {
  const listed = await fetch(`${e2e.api.baseUrl}/cats?breed=smoke-test&limit=100`);
  return ((await listed.json()) as { items: unknown[] }).items;
}

it('passes against npm start: every check ok, the cat it made deleted again', async () => {
  // Compared with what was there before, not with none: under --randomize the broken-DELETE test may run first.
  const before = await smokeCats();
  const { code, stdout } = await runSmoke(e2e.api.baseUrl);
  expect([code, stdout]).toEqual([0, expect.stringContaining('smoke: all 8 checks passed')]);
  for (const check of [
    'GET /cats answers 200',
    'without a token answers 401',
    'with the token answers 201',
    'reads it back',
    'the cat is gone',
    '/docs',
    '/openapi.json',
  ]) {
    expect(stdout).toMatch(new RegExp(`ok {4}[^\\n]*${check.replace(/[/{}]/g, '\\$&')}`));
  }
  expect(await smokeCats()).toEqual(before);
});

it('fails with a non-zero exit naming the check when DELETE is broken, and still runs the others', async () => {
  const stand = await standIn((method, url) =>
    method === 'DELETE' && url.startsWith('/cats/')
      ? { status: 500, type: 'application/problem+json', body: '{"title":"Internal Server Error"}' }
      : undefined,
  );
  try {
    const { code, stdout, stderr } = await runSmoke(stand.url);
    expect(code).toBe(1);
    expect(stdout).toMatch(/FAIL {2}DELETE \/cats\/\{id\} answers 204, and the cat is gone {2}expected 204, got 500/);
    expect(stderr).toContain('smoke: 1 check(s) failed: DELETE /cats/{id} answers 204, and the cat is gone');
    expect(stdout).toMatch(/ok {4}GET \/openapi\.json/);
  } finally {
    stand.close();
  }
});

it('fails when the API answers writes without a token', async () => {
  const stand = await standIn((method, url) =>
    method === 'POST' && url === '/cats' ? { status: 201, type: 'application/json', body: '{"id":1}' } : undefined,
  );
  try {
    const { code, stderr } = await runSmoke(stand.url);
    expect(code).toBe(1);
    expect(stderr).toContain('POST /cats without a token answers 401');
  } finally {
    stand.close();
  }
});

it('fails when /openapi.json is not an OpenAPI document', async () => {
  const stand = await standIn((_method, url) =>
    url === '/openapi.json' ? { status: 200, type: 'text/html', body: '<html>not found</html>' } : undefined,
  );
  try {
    const { code, stderr } = await runSmoke(stand.url);
    expect(code).toBe(1);
    expect(stderr).toContain('failed: GET /openapi.json answers 200 with the OpenAPI document');
  } finally {
    stand.close();
  }
});
