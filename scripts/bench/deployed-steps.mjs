// The deployed connect path of a cold start, one step at a time, in a fresh
// `node` (plain .mjs, no loader). Two sides:
//   function: the pieces the deployed function runs: its signer chunk (IAM) or
//             the SDK's Secrets Manager client (secret), its region's RDS CA
//             file, pg's SCRAM-SHA-256 client;
//   floor:    bare Node with no library: SigV4 and SCRAM by hand with
//             node:crypto, the secret read with node:http, only the one CA
//             that signed the server's certificate.
// Both do the same TLS handshake (host name verified), the same
// authentication exchange and the same query, speaking the PostgreSQL wire
// protocol themselves (pg's own cost is in the whole-function rows).
// Prints {boot, init, invoke, total, steps: {name: ms}}; with stopAfter set,
// exits after that many steps (the bench counts instructions by prefix).
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { connect } from 'node:net';

const t0 = performance.now();
const o = JSON.parse(process.argv[2]);
const steps = {};
let last = performance.now();
let done = 0;
function step(name) {
  const now = performance.now();
  steps[name] = now - last;
  last = now;
  done += 1;
  if (o.stopAfter !== undefined && done >= o.stopAfter) process.exit(0);
}

const frame = (type, body) => {
  const header = Buffer.alloc(type ? 5 : 4);
  let offset = 0;
  if (type) offset = header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, offset);
  return Buffer.concat([header, body]);
};
const hmac = (key, text) => createHmac('sha256', key).update(text).digest();
const sha256hex = (text) => createHash('sha256').update(text).digest('hex');
const uri = (text) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** SigV4 presigned rds-db:connect by hand (the floor's token). */
function handToken() {
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${o.region}/rds-db/aws4_request`;
  const authority = `${o.host}:${o.port}`;
  const params = [
    ['Action', 'connect'],
    ['DBUser', o.user],
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${process.env.AWS_ACCESS_KEY_ID}/${scope}`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', '900'],
    ...(process.env.AWS_SESSION_TOKEN ? [['X-Amz-Security-Token', process.env.AWS_SESSION_TOKEN]] : []),
    ['X-Amz-SignedHeaders', 'host'],
  ];
  const query = params
    .map(([k, v]) => `${uri(k)}=${uri(v)}`)
    .sort()
    .join('&');
  const request = ['GET', '/', query, `host:${authority}`, '', 'host', sha256hex('')].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(request)].join('\n');
  let key = hmac(`AWS4${process.env.AWS_SECRET_ACCESS_KEY}`, day);
  for (const part of [o.region, 'rds-db', 'aws4_request']) key = hmac(key, part);
  return `${authority}/?${query}&X-Amz-Signature=${createHmac('sha256', key).update(toSign).digest('hex')}`;
}

/** GetSecretValue with node:http (the floor's secret read). */
async function handSecret() {
  const { request } = await import('node:http');
  const body = JSON.stringify({ SecretId: o.secretArn });
  const text = await new Promise((resolve, reject) => {
    const req = request(
      o.secretUrl,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue' },
      },
      (res) => {
        let data = '';
        res.on('data', (chunk) => {
          data += chunk;
        });
        res.on('end', () => resolve(data));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  return JSON.parse(JSON.parse(text).SecretString).password;
}

const init = performance.now() - t0;
last = performance.now();
if (o.stopAfter === 0) process.exit(0);

// 1. node:tls, 2. the CA bundle parsed into a secure context (the function
// does both when it creates its pool, at import).
const tls = process.getBuiltinModule('node:tls');
step('node:tls load');
const { readFileSync } = process.getBuiltinModule('node:fs');
const secureContext = tls.createSecureContext({ ca: readFileSync(o.caFile, 'utf8') });
step('CA parse');

// 3. TCP, SSLRequest, TLS handshake with the host name checked.
const raw = connect({ host: o.host, port: o.port, noDelay: true });
await new Promise((resolve, reject) => {
  raw.once('error', reject);
  raw.once('connect', () => raw.write(Buffer.from([0, 0, 0, 8, 4, 210, 22, 47])));
  raw.once('data', (answer) => (answer[0] === 0x53 ? resolve() : reject(new Error('server refused TLS'))));
});
const socket = tls.connect({ socket: raw, servername: o.host, secureContext, rejectUnauthorized: true });
await new Promise((resolve, reject) => {
  socket.once('secureConnect', resolve);
  socket.once('error', reject);
});
step('TLS handshake');

// The wire protocol: whole messages, one at a time.
let pending = Buffer.alloc(0);
const waiting = [];
const drain = () => {
  while (waiting.length > 0 && pending.length >= 5) {
    const length = pending.readInt32BE(1) + 1;
    if (pending.length < length) break;
    const message = pending.subarray(0, length);
    pending = pending.subarray(length);
    waiting.shift()(message);
  }
};
socket.on('data', (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  drain();
});
const next = () =>
  new Promise((resolve) => {
    waiting.push(resolve);
    drain();
  });
const untilReady = async () => {
  let rows = 0;
  for (;;) {
    const message = await next();
    const type = String.fromCharCode(message[0]);
    if (type === 'E') throw new Error(message.subarray(5).toString());
    if (type === 'D') rows += 1;
    if (type === 'Z') return rows;
  }
};

// 4. Start-up until the server asks for a password; 7. authentication: the
// token as a cleartext password, or SCRAM-SHA-256 (steps 5 and 6 happen in
// between, as in pg, which asks for the password when the server does).
const version = Buffer.alloc(4);
version.writeInt32BE(196608);
socket.write(frame('', Buffer.concat([version, Buffer.from(`user\0${o.user}\0database\0${o.database}\0\0`)])));
const request = await next();
if (request[0] !== 0x52) throw new Error(`expected an authentication request: ${request.subarray(5)}`);
const kind = request.readInt32BE(5);
step('startup');
// 5. Asked for a password: the signer or the SDK client, loaded (and, for
// the SDK, constructed), as the function does when the server asks.
let sign;
let readSecret;
if (o.mode === 'iam') {
  if (o.side === 'function') ({ signIamToken: sign } = await import(o.chunk));
  else sign = async () => handToken();
} else if (o.side === 'function') {
  // The runtime's copy (not bundled): here, the project's node_modules.
  const sdk = await import('@aws-sdk/client-secrets-manager');
  const client = new sdk.SecretsManagerClient({});
  readSecret = async () => {
    const { SecretString } = await client.send(new sdk.GetSecretValueCommand({ SecretId: o.secretArn }));
    return JSON.parse(SecretString).password;
  };
} else readSecret = handSecret;
step(o.mode === 'iam' ? 'signer load' : 'SDK load');

// 6. The password: a token, or the secret's.
const password =
  o.mode === 'iam' ? await sign({ host: o.host, port: o.port, user: o.user, region: o.region }) : await readSecret();
step(o.mode === 'iam' ? 'token' : 'secret read');

if (kind === 3) {
  socket.write(frame('p', Buffer.from(`${password}\0`)));
} else if (kind === 10 && o.side === 'function') {
  // pg's own SCRAM client, as the function runs it.
  const { createRequire } = process.getBuiltinModule('node:module');
  const sasl = createRequire(import.meta.url)('pg/lib/crypto/sasl.js');
  const session = sasl.startSession(['SCRAM-SHA-256']);
  const first = Buffer.from(session.response);
  const length = Buffer.alloc(4);
  length.writeInt32BE(first.length);
  socket.write(frame('p', Buffer.concat([Buffer.from('SCRAM-SHA-256\0'), length, first])));
  const challenge = await next();
  await sasl.continueSession(session, password, challenge.subarray(9).toString());
  socket.write(frame('p', Buffer.from(session.response)));
  const final = await next();
  sasl.finalizeSession(session, final.subarray(9).toString());
} else if (kind === 10) {
  const nonce = randomBytes(18).toString('base64');
  const first = Buffer.from(`n,,n=*,r=${nonce}`);
  const length = Buffer.alloc(4);
  length.writeInt32BE(first.length);
  socket.write(frame('p', Buffer.concat([Buffer.from('SCRAM-SHA-256\0'), length, first])));
  const serverFirst = (await next()).subarray(9).toString();
  const fields = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]));
  const salted = pbkdf2Sync(password, Buffer.from(fields.s, 'base64'), Number(fields.i), 32, 'sha256');
  const clientKey = hmac(salted, 'Client Key');
  const storedKey = createHash('sha256').update(clientKey).digest();
  const without = `c=biws,r=${fields.r}`;
  const authMessage = `n=*,r=${nonce},${serverFirst},${without}`;
  const signature = hmac(storedKey, authMessage);
  const proof = Buffer.from(clientKey.map((byte, i) => byte ^ signature[i])).toString('base64');
  socket.write(frame('p', Buffer.from(`${without},p=${proof}`)));
  const serverFinal = (await next()).subarray(9).toString();
  if (serverFinal !== `v=${hmac(hmac(salted, 'Server Key'), authMessage).toString('base64')}`) {
    throw new Error('server signature does not match');
  }
} else throw new Error(`authentication request ${kind} not handled`);
await untilReady();
step('authentication');

// 8. The function's statement.
socket.write(frame('Q', Buffer.from(`${o.sql}\0`)));
const rows = await untilReady();
if (rows < 1) throw new Error('the query returned no row');
step('query');
socket.end(frame('X', Buffer.alloc(0)));
const answered = performance.now();
console.log(JSON.stringify({ boot: t0, init, invoke: answered - t0 - init, total: answered, steps }));
process.exit(0);
