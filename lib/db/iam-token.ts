/**
 * RDS IAM database authentication: the password is a token, a SigV4-presigned
 * `rds-db:connect` request for this host, port and database user, signed with
 * the function's own role credentials. RDS checks the signature and that the
 * role may connect as that user; the token is good for 15 minutes and is only
 * checked when a connection is opened.
 *
 * The signer is the AWS SDK's own (`@smithy/signature-v4`, which
 * `@aws-sdk/rds-signer` wraps), bundled, with the credentials Lambda puts in
 * the environment. `@aws-sdk/rds-signer` itself also loads the SDK's whole
 * credential-provider chain to find credentials we already have: bundled, or
 * from node_modules as the runtime would load it, it costs several times more
 * of a cold start (`npm run bench:signers`, BENCHMARKS.md). The signer is
 * imported on the first connection only, so a function in secret mode never
 * loads it.
 */

/** RDS accepts a token for 15 minutes (iam-signer.ts); a fresh one is signed 5 minutes before that. */
const renewAfterMs = 10 * 60 * 1000;

/**
 * A `password` function for `pg`: a token signed on first use and reused
 * until 5 minutes before it expires (each new connection asks for one).
 */
export function iamTokenPassword(options: {
  host: string;
  port: number;
  user: string;
  region: string;
}): () => Promise<string> {
  let cached: { token: Promise<string>; signedAt: number } | undefined;
  return () => {
    const now = Date.now();
    if (cached === undefined || now - cached.signedAt >= renewAfterMs) {
      // Imported here, not at the top: a function in secret mode never loads
      // the signer, and esbuild keeps only what iam-signer.ts imports by name.
      const token = import('./iam-signer.js').then(({ signIamToken }) => signIamToken(options, new Date(now)));
      const entry = { token, signedAt: now };
      cached = entry;
      // A failed signing (no credentials) is not kept: the next connection tries again.
      token.catch(() => {
        if (cached === entry) cached = undefined;
      });
    }
    return cached.token;
  };
}
