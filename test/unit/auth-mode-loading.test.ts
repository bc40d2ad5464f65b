/**
 * A function loads only what its DB_AUTH mode uses: in IAM mode the token
 * signer (its own chunk in a bundle) and never the Secrets Manager client; in
 * secret mode the client and never the signer. Each case runs get-cat in a
 * fresh `node`, from the bundle and from the sources, against a stand-in
 * server that asks for a cleartext password, records it and refuses the
 * login (the function answers 503); a resolve hook records what was loaded.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { buildFunction, root, writeFunction } from '../support/bundle.js';
import { httpEvent } from '../support/lambda.js';
import { type SecretsStandIn, startSecretsStandIn } from '../support/secrets-stand-in.js';
import { makeTestCertificates, type TestCertificates } from '../support/tls.js';

const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:cats-loading-AbCdEf';
let folder: string;
let bundle: string;
let server: Server;
let port: number;
let secrets: SecretsStandIn;
let certificates: TestCertificates;
const passwords: string[] = [];

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cats-auth-loading-'));
  bundle = await writeFunction(await buildFunction('get-cat'), 'get-cat', join(folder, 'functions'));
  // Lambda's runtime provides @aws-sdk/*; here the project's node_modules does.
  await symlink(join(root, 'node_modules'), join(folder, 'node_modules'));
  await writeFile(
    join(folder, 'invoke.mjs'),
    `import { registerHooks } from 'node:module';
     const resolved = [];
     registerHooks({ resolve(specifier, context, next) { resolved.push(specifier); return next(specifier, context); } });
     const [entry, event] = process.argv.slice(2);
     const { handler } = await import(entry);
     const reply = await handler(JSON.parse(event), { awsRequestId: 'loading', getRemainingTimeInMillis: () => 15000 });
     console.log(JSON.stringify({ status: reply.statusCode, resolved }));
     process.exit(0);`,
  );
  // Asks for a cleartext password (as RDS does for IAM, and as any server may), records it, refuses.
  // Over TLS when the client asks for it: IAM mode sends its token only over a verified connection.
  certificates = makeTestCertificates();
  const tlsContext = {
    key: readFileSync(certificates.serverKeyFile),
    cert: readFileSync(certificates.serverCertFile),
  };
  server = createServer((plain) => {
    let socket: Socket = plain;
    let stage = 0;
    const onData = (chunk: Buffer) => {
      // SSLRequest: length 8, code 80877103.
      if (stage === 0 && chunk.length === 8 && chunk.readInt32BE(4) === 80877103) {
        plain.removeListener('data', onData);
        plain.write('S');
        const secure = new TLSSocket(plain, { isServer: true, ...tlsContext });
        secure.on('data', onData);
        secure.on('error', () => {});
        socket = secure;
        return;
      }
      if (stage === 0) {
        stage = 1;
        socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3]));
        return;
      }
      passwords.push(chunk.subarray(5, chunk.indexOf(0, 5)).toString());
      const body = Buffer.from('SFATAL\0C28P01\0Mpassword authentication failed\0\0');
      const header = Buffer.alloc(5);
      header.write('E');
      header.writeInt32BE(body.length + 4, 1);
      socket.end(Buffer.concat([header, body]));
    };
    plain.on('data', onData);
    plain.on('error', () => {});
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  port = (server.address() as { port: number }).port;
  secrets = await startSecretsStandIn(secretArn, JSON.stringify({ username: 'cats', password: 'from-the-secret' }));
}, 60000);

afterAll(async () => {
  await new Promise((ok) => server?.close(ok));
  await secrets?.close();
  if (folder) await rm(folder, { recursive: true, force: true });
  if (certificates) await rm(certificates.dir, { recursive: true, force: true });
});

async function run(entry: string, mode: 'iam' | 'secret', fromSources: boolean) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      ...(fromSources ? ['--import', 'tsx'] : []),
      join(folder, 'invoke.mjs'),
      entry,
      JSON.stringify(httpEvent('get-cat', { id: 1 })),
    ],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIDLOADINGEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'loading/test/key/000000000000000000000000',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        POWERTOOLS_METRICS_DISABLED: 'true',
        DB_HOST: 'localhost',
        DB_PORT: String(port),
        DB_NAME: 'cats',
        DB_USER: 'cats',
        DB_SSL: 'verify',
        DB_SSL_CA: certificates.caFile,
        DB_AUTH: mode,
        ...(mode === 'secret' ? { DB_SECRET_ARN: secretArn, AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url } : {}),
      },
    },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? 'null') as { status: number; resolved: string[] };
}

// Our signer module (its chunk in a bundle); the SDK client loads @smithy's signer for its own requests.
const signer = (specifier: string) => /iam-signer/.test(specifier);
const secretsClient = (specifier: string) => specifier === '@aws-sdk/client-secrets-manager';

describe.each([
  ['the bundle', false],
  ['the sources', true],
])('get-cat from %s', (_, fromSources) => {
  const entry = () => (fromSources ? join(root, 'functions', 'get-cat.ts') : bundle);

  it('in IAM mode signs a token and never loads the Secrets Manager client', async () => {
    const seen = passwords.length;
    const reply = await run(entry(), 'iam', fromSources);
    expect(reply.status).toBe(503);
    expect(passwords.slice(seen)[0]).toMatch(/^localhost:\d+\/\?Action=connect&DBUser=cats&/);
    expect(reply.resolved.some(signer)).toBe(true);
    expect(reply.resolved.filter(secretsClient)).toEqual([]);
  });

  it('in secret mode reads the secret and never loads the token signer', async () => {
    const seen = passwords.length;
    const reply = await run(entry(), 'secret', fromSources);
    expect(reply.status).toBe(503);
    expect(passwords.slice(seen)[0]).toBe('from-the-secret');
    expect(reply.resolved.some(secretsClient)).toBe(true);
    expect(reply.resolved.filter(signer)).toEqual([]);
  });
});
