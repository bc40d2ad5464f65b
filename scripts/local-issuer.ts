/**
 * `npm start`'s token issuer: an RSA key kept in the git-ignored data folder
 * and the access tokens it signs, RS256 JWTs shaped like the access tokens
 * Cognito gives for client credentials (`client_id`, `token_use: access`,
 * `scope`, no `aud`), so that the audience rule API Gateway applies deployed
 * (the authorizer's audience is the app client's id, compared with
 * `client_id`) is the one checked locally. npm start's gateway
 * (scripts/local-gateway.ts) verifies them with this key's JWKS. The issuer
 * and the client are custom.auth.local in serverless.yml; a test keeps the
 * two in step.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const localIssuer = 'https://issuer.cats-api.localhost';
export const readScope = 'cats/read';
export const writeScope = 'cats/write';
/** Who a local token says it is: `sub` and `client_id`, as in a Cognito client-credentials token. */
export const localClient = 'local-developer';
/** The audience of npm start's authorizer: the local app client, as deployed it is the stage's app client id. */
export const localAudience = localClient;
/**
 * The local client's secret at npm start's token endpoint (POST /oauth2/token):
 * a development default, known to all, as the tokens it buys are only good on
 * this machine's API.
 */
export const localClientSecret = 'local-developer-secret';
/** The `kid` of the local issuer's one key. */
export const localKeyId = 'cats-api-local';

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
  /** An `aud` claim, which Cognito's access tokens do not have (none by default). */
  audience?: string;
  /** `sub` and `client_id`. */
  client?: string;
  /** Seconds since the epoch. */
  now?: number;
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An RS256 JWT over these claims. */
export function signJwt(claims: Record<string, unknown>, key: KeyObject, kid = localKeyId): string {
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
      ...(options.audience === undefined ? {} : { aud: options.audience }),
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
