/**
 * The built-ins esbuild-plugins.cjs (lazy-builtins) and the serverless.yml
 * banner keep out of a cold start: each bundle is run in a fresh `node`, as
 * Lambda would load it, and Node's own list of loaded modules is read. Also
 * proves that the deferred crypto still does its job: pg's SCRAM-SHA-256
 * client, from a bundle built with the same plugins, computes the proof
 * RFC 5802 says it must.
 */
import { execFile } from 'node:child_process';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import { buildFunction, functionBuildOptions, root, writeFunction } from '../support/bundle.js';
import { declaredFunctions } from '../support/serverless-config.js';

// crypto: esbuild-plugins.cjs (lazy-builtins); tls and fs's promises, readline
// and REPL history (an ES import of node:fs loads them on Node 22 and 24):
// lib/db/credentials.ts; module: the serverless.yml banner.
const deferred = [
  'crypto',
  'tls',
  'module',
  'internal/fs/promises',
  'internal/readline/interface',
  'internal/repl/history',
];
let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cats-lazy-builtins-'));
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** Runs `script` (an ES module) in a fresh node with no Lambda or database settings; returns its JSON output. */
async function runFresh(script: string): Promise<any> {
  const file = join(folder, `run-${Math.random().toString(36).slice(2)}.mjs`);
  await writeFile(file, script);
  const { stdout } = await promisify(execFile)(process.execPath, [file], {
    env: { PATH: process.env.PATH ?? '' },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? 'null');
}

const loadedSince = `
const before = new Set(process.moduleLoadList);
const loaded = () => process.moduleLoadList.filter((m) => !before.has(m)).map((m) => m.replace(/^NativeModule /, ''));
`;

describe('built-ins a cold start does not load', () => {
  // Every function that uses the database, as serverless.yml declares them.
  const withDatabase = declaredFunctions()
    .filter((fn) => fn.database)
    .map((fn) => fn.file);

  it('covers the functions serverless.yml declares with a database', () => {
    expect(withDatabase).toEqual(expect.arrayContaining(['get-cat', 'list-cats', 'create-cat', 'migrate']));
  });

  it.each(withDatabase)(
    'the %s bundle imports without loading crypto, tls, fs/promises, readline or node:module',
    async (name) => {
      const bundle = await writeFunction(await buildFunction(name), name, join(folder, name));
      const loaded: string[] = await runFresh(`${loadedSince}
        const { handler } = await import(${JSON.stringify(bundle)});
        if (typeof handler !== 'function') throw new Error('no handler');
        console.log(JSON.stringify(loaded()));`);
      // The bundle did load its other built-ins, so the list is the real one.
      expect(loaded).toContain('console');
      expect(loaded.filter((module) => deferred.includes(module))).toEqual([]);
    },
  );

  it("runs pg's SCRAM-SHA-256 login from a bundle, loading crypto only when a password is asked for", async () => {
    const bundle = join(folder, 'sasl.mjs');
    await esbuild.build({
      ...functionBuildOptions,
      stdin: { contents: "export { default as sasl } from 'pg/lib/crypto/sasl.js';", resolveDir: root },
      outfile: bundle,
    });
    const password = 'correct horse battery staple';
    const salt = Buffer.from('a salt for this test').toString('base64');
    const iterations = 4096;
    const out = await runFresh(`${loadedSince}
      const { sasl } = await import(${JSON.stringify(bundle)});
      const atImport = loaded();
      const session = sasl.startSession(['SCRAM-SHA-256']);
      const serverNonce = session.clientNonce + 'server';
      await sasl.continueSession(session, ${JSON.stringify(password)}, 'r=' + serverNonce + ',s=${salt},i=${iterations}');
      console.log(JSON.stringify({ atImport, atEnd: loaded(), clientNonce: session.clientNonce, response: session.response, serverSignature: session.serverSignature }));`);

    expect(out.atImport).not.toContain('crypto');
    expect(out.atEnd).toContain('crypto');

    // RFC 5802 section 3, computed here with node:crypto directly.
    const nonce = `${out.clientNonce}server`;
    const authMessage = `n=*,r=${out.clientNonce},r=${nonce},s=${salt},i=${iterations},c=biws,r=${nonce}`;
    const saltedPassword = pbkdf2Sync(password, Buffer.from(salt, 'base64'), iterations, 32, 'sha256');
    const clientKey = createHmac('sha256', saltedPassword).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest();
    const clientSignature = createHmac('sha256', storedKey).update(authMessage).digest();
    const proof = Buffer.from(clientKey.map((byte, i) => byte ^ (clientSignature[i] ?? 0))).toString('base64');
    const serverKey = createHmac('sha256', saltedPassword).update('Server Key').digest();
    const serverSignature = createHmac('sha256', serverKey).update(authMessage).digest('base64');

    expect(out.clientNonce).toMatch(/^[A-Za-z0-9+/]{24}$/);
    expect(out.response).toBe(`c=biws,r=${nonce},p=${proof}`);
    expect(out.serverSignature).toBe(serverSignature);
  });
});
