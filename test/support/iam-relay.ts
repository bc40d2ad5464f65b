/**
 * A stand-in for RDS's side of IAM database authentication, in front of a
 * local PostgreSQL: it terminates TLS with a certificate of the caller's
 * (as RDS does, IAM authentication needs TLS), asks for a cleartext password
 * as RDS does for a user granted `rds_iam`, and checks that the password is a
 * SigV4-presigned `rds-db:connect` request for this endpoint and database
 * user, signed with the given credentials, and not expired. The signature is
 * recomputed here with node:crypto from the SigV4 specification, not with the
 * SDK signer the functions use, so the check is independent of it. A refused
 * login gets what RDS sends (FATAL 28000, "PAM authentication failed"); an
 * accepted one is logged in to PostgreSQL as that user (plain TCP on
 * loopback) and the two sides are joined.
 */
import { createHash, createHmac } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface IamRelayOptions {
  /**
   * The PostgreSQL the relay logs in to as the user the token names: with
   * trust, or with this cleartext `password` (the embedded server's method).
   */
  target: { host: string; port: number; password?: string };
  /** PEM certificate (for the host name the functions connect to) and key. */
  cert: string | Buffer;
  key: string | Buffer;
  credentials: AwsCredentials;
  region: string;
  /** The host name the token must be signed for (its port is the relay's). */
  hostname: string;
}

export interface IamRelay {
  port: number;
  /** Why each refused login was refused, in order. */
  refusals: string[];
  /** Logins accepted so far. */
  accepted(): number;
  close(): Promise<void>;
}

const sslRequestCode = 80877103;

function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

function fatal(code: string, text: string): Buffer {
  const fields = [
    ['S', 'FATAL'],
    ['V', 'FATAL'],
    ['C', code],
    ['M', text],
  ].map(([key, value]) => Buffer.from(`${key}${value}\0`));
  return message('E', Buffer.concat([...fields, Buffer.from([0])]));
}

/** SigV4's URI encoding: every byte but unreserved characters, upper-case hex. */
const uriEncode = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: Buffer | string, text: string) => createHmac('sha256', key).update(text, 'utf8').digest();
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * Why RDS would refuse `token` for `user` at `authority` (`host:port`), or
 * undefined when it is a valid, unexpired token signed with `credentials`.
 */
export function checkIamToken(
  token: string,
  expected: { authority: string; user: string; region: string; credentials: AwsCredentials; now?: Date },
): string | undefined {
  const slash = token.indexOf('/?');
  if (slash < 0) return 'not a presigned URL';
  const authority = token.slice(0, slash);
  if (authority !== expected.authority) return `signed for ${authority}, not ${expected.authority}`;
  const pairs = token
    .slice(slash + 2)
    .split('&')
    .map((pair) => pair.split('=').map((part) => decodeURIComponent(part.replace(/\+/g, ' '))) as [string, string]);
  const query = new Map(pairs);
  if (query.get('Action') !== 'connect') return 'Action is not connect';
  if (query.get('DBUser') !== expected.user) return `DBUser ${query.get('DBUser')} is not ${expected.user}`;
  if (query.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return 'not AWS4-HMAC-SHA256';
  if (query.get('X-Amz-SignedHeaders') !== 'host') return 'signed headers are not just host';
  const amzDate = query.get('X-Amz-Date') ?? '';
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${expected.region}/rds-db/aws4_request`;
  const { credentials } = expected;
  if (query.get('X-Amz-Credential') !== `${credentials.accessKeyId}/${scope}`) return 'credential scope differs';
  if ((credentials.sessionToken ?? undefined) !== query.get('X-Amz-Security-Token')) return 'session token differs';
  const signedAt = Date.parse(
    `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const expires = Number(query.get('X-Amz-Expires'));
  const now = (expected.now ?? new Date()).getTime();
  if (!Number.isInteger(expires) || expires < 1 || expires > 900) return 'X-Amz-Expires is not 1-900';
  if (Number.isNaN(signedAt) || signedAt > now + 5 * 60_000) return 'signed in the future';
  if (now > signedAt + expires * 1000) return 'expired';
  const canonicalQuery = pairs
    .filter(([key]) => key !== 'X-Amz-Signature')
    .map(([key, value]) => `${uriEncode(key)}=${uriEncode(value)}`)
    .sort()
    .join('&');
  const canonicalRequest = ['GET', '/', canonicalQuery, `host:${authority}`, '', 'host', sha256('')].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  let key = hmac(`AWS4${credentials.secretAccessKey}`, day);
  for (const part of [expected.region, 'rds-db', 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  if (query.get('X-Amz-Signature') !== signature) return 'signature does not match';
  return undefined;
}

/** Reads whole messages off a socket; the first may be untyped (start-up). */
function reader(socket: Socket | TLSSocket, untypedFirst: boolean) {
  let buffer = Buffer.alloc(0);
  let untyped = untypedFirst;
  const waiting: Array<(message: Buffer) => void> = [];
  const drain = () => {
    for (;;) {
      const offset = untyped ? 0 : 1;
      if (waiting.length === 0 || buffer.length < offset + 4) return;
      const length = buffer.readInt32BE(offset) + offset;
      if (buffer.length < length) return;
      const next = buffer.subarray(0, length);
      buffer = buffer.subarray(length);
      untyped = false;
      waiting.shift()?.(next);
    }
  };
  const onData = (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    drain();
  };
  socket.on('data', onData);
  return {
    next: () =>
      new Promise<Buffer>((resolve) => {
        waiting.push(resolve);
        drain();
      }),
    /** Stops reading; returns what was read but not taken. */
    detach: () => {
      socket.off('data', onData);
      return buffer;
    },
  };
}

export async function startIamRelay(options: IamRelayOptions): Promise<IamRelay> {
  let accepted = 0;
  const refusals: string[] = [];
  const sockets = new Set<Socket>();
  let port = 0;

  const serve = async (raw: Socket) => {
    const plain = reader(raw, true);
    const first = await plain.next();
    if (first.length !== 8 || first.readInt32BE(4) !== sslRequestCode) {
      refusals.push('no TLS');
      raw.end(fatal('28000', 'IAM authentication requires SSL'));
      return;
    }
    plain.detach();
    raw.write('S');
    const client = new TLSSocket(raw, { isServer: true, cert: options.cert, key: options.key });
    client.on('error', () => raw.destroy());
    const fromClient = reader(client, true);
    const startup = await fromClient.next();
    const params = startup.subarray(8).toString('utf8').split('\0');
    const user = params[params.indexOf('user') + 1] ?? '';
    client.write(message('R', Buffer.from([0, 0, 0, 3])));
    const password = await fromClient.next();
    const token = password.subarray(5, password.length - 1).toString('utf8');
    const refused = checkIamToken(token, {
      authority: `${options.hostname}:${port}`,
      user,
      region: options.region,
      credentials: options.credentials,
    });
    if (refused !== undefined) {
      refusals.push(refused);
      client.end(fatal('28000', `PAM authentication failed for user "${user}"`));
      return;
    }
    accepted += 1;
    const server = createConnection(options.target);
    sockets.add(server);
    server.on('error', () => client.destroy());
    client.on('close', () => server.destroy());
    server.on('close', () => client.end());
    server.write(startup);
    const fromServer = reader(server, false);
    let answer = await fromServer.next();
    if (answer[0] === 0x52 && answer.readInt32BE(5) === 3 && options.target.password !== undefined) {
      server.write(message('p', Buffer.from(`${options.target.password}\0`)));
      answer = await fromServer.next();
    }
    if (answer[0] === 0x52 && answer.readInt32BE(5) !== 0) {
      client.end(fatal('28000', 'the relay logs in with trust or a cleartext password only'));
      server.destroy();
      return;
    }
    // AuthenticationOk and whatever follows, as PostgreSQL sent them.
    client.write(Buffer.concat([answer, fromServer.detach()]));
    const rest = fromClient.detach();
    if (rest.length > 0) server.write(rest);
    client.pipe(server);
    server.pipe(client);
  };

  const relay: Server = createServer((raw) => {
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
    raw.on('error', () => raw.destroy());
    serve(raw).catch(() => raw.destroy());
  });
  await new Promise<void>((ok) => relay.listen(0, '127.0.0.1', ok));
  port = (relay.address() as { port: number }).port;
  return {
    port,
    refusals,
    accepted: () => accepted,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((ok) => relay.close(ok));
    },
  };
}
