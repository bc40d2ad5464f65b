import { ConfigError, readApplicationUser, readDatabaseSettings, redactUrl } from '../../lib/config.js';

const url = 'postgres://cats:s3cr3t-pw@db.example.com:5432/cats';
const postgresVars = {
  POSTGRES_HOST: 'db.example.com',
  POSTGRES_USER: 'cats',
  POSTGRES_PASSWORD: 's3cr3t-pw',
  POSTGRES_DB: 'cats',
};

/** The ConfigError that reading `env` throws. */
function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    readDatabaseSettings(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('readDatabaseSettings accepted the environment');
}

describe('readDatabaseSettings', () => {
  it('connects with DATABASE_URL and uses the defaults for the pool and timeouts', () => {
    expect(readDatabaseSettings({ DATABASE_URL: url })).toEqual({
      connection: { connectionString: url },
      description: 'postgres://cats:***@db.example.com:5432/cats',
      // Local settings stay as they were: no TLS unless DB_SSL asks for it.
      tls: { mode: 'off' },
      poolMax: 1,
      connectTimeoutMs: 3000,
      statementTimeoutMs: 5000,
      idleTimeoutMs: 60000,
      validateAfterIdleMs: 5000,
      reconnectWaitMs: 50,
    });
  });

  it('connects with the POSTGRES_* variables, defaulting the port to 5432', () => {
    const settings = readDatabaseSettings(postgresVars);
    expect(settings.connection).toEqual({
      host: 'db.example.com',
      port: 5432,
      user: 'cats',
      password: 's3cr3t-pw',
      database: 'cats',
    });
    expect(settings.description).toBe('postgres://cats@db.example.com:5432/cats');
  });

  it('prefers DATABASE_URL over the POSTGRES_* variables', () => {
    expect(readDatabaseSettings({ ...postgresVars, DATABASE_URL: url }).connection).toEqual({ connectionString: url });
  });

  it.each([{}, { DATABASE_URL: '' }])('refuses to start without a database, mentioning DATABASE_URL (%p)', (env) => {
    expect(configError(env).message).toMatch(/DATABASE_URL/);
  });

  it('refuses a DATABASE_URL that is not a postgres URL, without echoing it', () => {
    const { message } = configError({ DATABASE_URL: 'mysql://cats:s3cr3t-pw@db/cats' });
    expect(message).toMatch(/DATABASE_URL must start with postgres:\/\//);
    expect(message).not.toContain('s3cr3t-pw');
  });

  it.each([
    ['POSTGRES_USER', { POSTGRES_USER: undefined }, /POSTGRES_USER is not/],
    ['POSTGRES_DB', { POSTGRES_DB: '' }, /POSTGRES_DB is not/],
    ['both', { POSTGRES_USER: undefined, POSTGRES_DB: undefined }, /POSTGRES_USER and POSTGRES_DB are not/],
  ])('names %s when POSTGRES_HOST is set without it', (_label, change, expected) => {
    expect(configError({ ...postgresVars, ...change }).message).toMatch(expected);
  });

  it.each([
    ['DB_POOL_MAX', '0'],
    ['DB_POOL_MAX', 'abc'],
    ['DB_POOL_MAX', '101'],
    ['DB_POOL_MAX', '1.5'],
    ['DB_CONNECT_TIMEOUT_MS', '99'],
    ['DB_STATEMENT_TIMEOUT_MS', '-5'],
    ['DB_IDLE_TIMEOUT_MS', '3600001'],
    ['DB_VALIDATE_AFTER_IDLE_MS', 'soon'],
  ])('rejects %s=%p, naming the variable and the value', (name, value) => {
    const { message } = configError({ DATABASE_URL: url, [name]: value });
    expect(message).toContain(name);
    expect(message).toContain(`"${value}"`);
  });

  it('rejects POSTGRES_PORT outside 1..65535, naming it', () => {
    expect(configError({ ...postgresVars, POSTGRES_PORT: '70000' }).message).toMatch(/^POSTGRES_PORT must be/);
  });

  it('reads integer settings at their bounds, and treats an empty value as unset', () => {
    const env = { DATABASE_URL: url, DB_POOL_MAX: '100', DB_CONNECT_TIMEOUT_MS: '100', DB_VALIDATE_AFTER_IDLE_MS: '0' };
    expect(readDatabaseSettings({ ...env, DB_STATEMENT_TIMEOUT_MS: '' })).toMatchObject({
      poolMax: 100,
      connectTimeoutMs: 100,
      statementTimeoutMs: 5000,
      validateAfterIdleMs: 0,
    });
  });

  it.each([{ DATABASE_URL: url }, { DATABASE_URL: 'postgresql://cats:s3cr3t-pw@[::1]/cats' }, postgresVars])(
    'never puts the password in the description (%p)',
    (env) => {
      expect(readDatabaseSettings(env).description).not.toContain('s3cr3t-pw');
    },
  );
});

describe('redactUrl', () => {
  it.each([
    ['postgres://u:p%40ss@h/db', 'postgres://u:***@h/db'],
    ['postgres://u@h:5433/db', 'postgres://u@h:5433/db'],
    ['not a url with s3cr3t-pw', '(unparseable DATABASE_URL)'],
  ])('shows %p as %p', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });
});

describe('configuration hardening', () => {
  it('hides a password passed as a query parameter, which pg also honours', () => {
    const settings = readDatabaseSettings({ DATABASE_URL: 'postgres://h/db?password=secret&sslmode=require' });
    expect(settings.description).not.toContain('secret');
    expect(settings.description).toContain('sslmode=require');
  });

  it.each(['0x10', '1e2', ' 5 ', ' ', '5.0'])('refuses %j as a whole number instead of reading it loosely', (raw) => {
    expect(() => readDatabaseSettings({ DATABASE_URL: 'postgres://h/db', DB_POOL_MAX: raw })).toThrow(/DB_POOL_MAX/);
  });
});

describe('readDatabaseSettings for a deployed function (DB_HOST)', () => {
  const deployed = {
    DB_HOST: 'cats.abc123.eu-west-1.rds.amazonaws.com',
    DB_NAME: 'cats',
    DB_USER: 'cats_admin',
    DB_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1234-AbCdEf',
  };

  it('connects to DB_HOST with the secret ARN and no password, verifying TLS against the bundled RDS CAs', () => {
    const settings = readDatabaseSettings(deployed);
    expect(settings.connection).toEqual({
      host: deployed.DB_HOST,
      port: 5432,
      user: 'cats_admin',
      database: 'cats',
    });
    expect(settings.secretArn).toBe(deployed.DB_SECRET_ARN);
    expect(settings.tls).toEqual({ mode: 'verify' });
    expect(settings.description).toBe(`postgres://cats_admin@${deployed.DB_HOST}:5432/cats`);
  });

  it('trusts the CA file in DB_SSL_CA instead, and turns TLS off only when DB_SSL=off says so', () => {
    expect(readDatabaseSettings({ ...deployed, DB_SSL_CA: '/etc/ca.pem' }).tls).toEqual({
      mode: 'verify',
      caFile: '/etc/ca.pem',
    });
    expect(readDatabaseSettings({ ...deployed, DB_SSL: 'off' }).tls).toEqual({ mode: 'off' });
    expect(readDatabaseSettings({ DATABASE_URL: url, DB_SSL: 'verify' }).tls).toEqual({ mode: 'verify' });
  });

  it('lets DATABASE_URL win over DB_HOST, as it wins over POSTGRES_*', () => {
    expect(readDatabaseSettings({ ...deployed, DATABASE_URL: url }).connection).toEqual({ connectionString: url });
  });

  it('names DB_USER and DB_NAME when DB_HOST is set without them', () => {
    expect(configError({ DB_HOST: 'db' }).message).toBe('DB_HOST is set but DB_USER and DB_NAME are not');
  });

  it('rejects a DB_SSL mode that does not exist rather than connecting without verification', () => {
    expect(configError({ ...deployed, DB_SSL: 'require' }).message).toBe(
      'DB_SSL must be "verify" or "off", got "require"',
    );
  });

  it('rejects a DB_SECRET_ARN that is not a Secrets Manager ARN', () => {
    expect(configError({ ...deployed, DB_SECRET_ARN: 'my-secret' }).message).toMatch(/^DB_SECRET_ARN must be/);
  });
});

describe('readDatabaseSettings with DB_AUTH=iam', () => {
  const iam = {
    DB_HOST: 'cats.abc123.eu-west-1.rds.amazonaws.com',
    DB_NAME: 'cats',
    DB_USER: 'cats_api',
    DB_AUTH: 'iam',
    AWS_REGION: 'eu-west-1',
  };

  it('signs a token for the region instead of reading a secret, over verified TLS', () => {
    const settings = readDatabaseSettings(iam);
    expect(settings.iam).toEqual({ region: 'eu-west-1' });
    expect(settings.secretArn).toBeUndefined();
    expect(settings.connection).toEqual({ host: iam.DB_HOST, port: 5432, user: 'cats_api', database: 'cats' });
    expect(settings.tls).toEqual({ mode: 'verify' });
    expect(settings.description).toBe(`postgres://cats_api@${iam.DB_HOST}:5432/cats (IAM)`);
  });

  it('refuses to send the token without TLS, naming DB_AUTH and DB_SSL', () => {
    expect(configError({ ...iam, DB_SSL: 'off' }).message).toBe(
      'DB_AUTH=iam sends a signed token as the password: it needs DB_SSL=verify, not DB_SSL=off',
    );
  });

  it('names AWS_REGION when it is missing, since the token is signed for a region', () => {
    expect(configError({ ...iam, AWS_REGION: undefined }).message).toMatch(/^DB_AUTH=iam needs AWS_REGION/);
  });

  it('refuses a secret ARN beside it, so that a half-changed stack is noticed', () => {
    expect(
      configError({ ...iam, DB_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x' }).message,
    ).toMatch(/unset DB_SECRET_ARN/);
  });

  it('rejects a DB_AUTH that does not exist', () => {
    expect(configError({ ...iam, DB_AUTH: 'password' }).message).toBe(
      'DB_AUTH must be "iam" or "secret", got "password"',
    );
  });

  it('keeps the secret as the default, as before DB_AUTH existed', () => {
    const { DB_AUTH: _unused, ...withoutMode } = iam;
    expect(readDatabaseSettings(withoutMode).iam).toBeUndefined();
    expect(readDatabaseSettings({ ...withoutMode, DB_AUTH: 'secret' }).iam).toBeUndefined();
  });
});

describe('readApplicationUser', () => {
  it('defaults to cats_api and takes DB_APP_USER otherwise', () => {
    expect(readApplicationUser({})).toBe('cats_api');
    expect(readApplicationUser({ DB_APP_USER: 'shop_api' })).toBe('shop_api');
  });

  it.each(['Cats', 'cats-api', 'x; DROP TABLE cats', 'a'.repeat(64)])(
    'refuses %j, which would need quoting in SQL',
    (name) => {
      expect(() => readApplicationUser({ DB_APP_USER: name })).toThrow(/DB_APP_USER must be/);
    },
  );
});
