/**
 * `npm start`'s token issuer: an RSA key kept in the git-ignored data folder
 * and the access tokens it signs (RS256 JWTs shaped like Cognito's, with an
 * audience). serverless-offline checks their issuer, audience, expiry and
 * scopes, never their signature: locally, a token proves nothing about who
 * sent it (README, Authentication). The issuer and audience are
 * custom.auth.local in serverless.yml; a test keeps the two in step.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const localIssuer = 'https://issuer.cats-api.localhost';
export const localAudience = 'cats-api-local';
export const readScope = 'cats/read';
export const writeScope = 'cats/write';
/** Who a local token says it is: `sub` and `client_id`, as in a Cognito client-credentials token. */
export const localClient = 'local-developer';

/** The data folder `npm start` uses (CATS_DATA_DIR, default .data). */
export function dataRoot(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.CATS_DATA_DIR ?? '.data');
}

/** The local issuer's private key, made on first use: `<data folder>/auth/local-issuer.pem`, readable by its owner only. */
export function localKey(root = dataRoot()): KeyObject {
  const file = join(root, 'auth', 'local-issuer.pem');
  if (!existsSync(file)) {
    mkdirSync(join(root, 'auth'), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    // 'wx': two first runs at once must not overwrite each other's key mid-use.
    try {
      writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    chmodSync(file, 0o600);
  }
  return createPrivateKey(readFileSync(file));
}

export interface LocalTokenOptions {
  scopes?: string[];
  /** Seconds from now; negative makes an already expired token. */
  expiresIn?: number;
  issuer?: string;
  audience?: string;
  /** `sub` and `client_id`. */
  client?: string;
  /** Seconds since the epoch. */
  now?: number;
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An RS256 JWT over these claims. */
export function signJwt(claims: Record<string, unknown>, key: KeyObject, kid = 'cats-api-local'): string {
  const unsigned = `${base64url({ alg: 'RS256', typ: 'JWT', kid })}.${base64url(claims)}`;
  return `${unsigned}.${sign('sha256', Buffer.from(unsigned), key).toString('base64url')}`;
}

/** A local access token: both scopes, valid for an hour, unless told otherwise. */
export function localToken(key: KeyObject, options: LocalTokenOptions = {}): string {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const client = options.client ?? localClient;
  return signJwt(
    {
      iss: options.issuer ?? localIssuer,
      aud: options.audience ?? localAudience,
      sub: client,
      client_id: client,
      token_use: 'access',
      scope: (options.scopes ?? [readScope, writeScope]).join(' '),
      iat: now,
      exp: now + (options.expiresIn ?? 3600),
      jti: randomUUID(),
    },
    key,
  );
}
