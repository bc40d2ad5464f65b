/**
 * A local stand-in for Secrets Manager's GetSecretValue, for the real SDK
 * client pointed at it with AWS_ENDPOINT_URL_SECRETS_MANAGER: it answers the
 * JSON 1.1 protocol the SDK speaks, for one secret, and counts the reads.
 * Plain HTTP on loopback (the real endpoint is HTTPS: that handshake is not
 * in what it measures).
 */
import { createServer } from 'node:http';

export interface SecretsStandIn {
  url: string;
  reads(): number;
  close(): Promise<void>;
}

export async function startSecretsStandIn(secretArn: string, secretString: string): Promise<SecretsStandIn> {
  let reads = 0;
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk;
    });
    request.on('end', () => {
      const target = request.headers['x-amz-target'];
      const { SecretId } = JSON.parse(body || '{}') as { SecretId?: string };
      const reply = (status: number, payload: unknown) => {
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify(payload));
      };
      if (target !== 'secretsmanager.GetSecretValue' || SecretId !== secretArn) {
        reply(400, { __type: 'ResourceNotFoundException', message: `no ${SecretId} here (${target})` });
        return;
      }
      reads += 1;
      reply(200, {
        ARN: secretArn,
        Name: secretArn.split(':').at(-1),
        SecretString: secretString,
        VersionId: 'bench-version',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_700_000_000,
      });
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    reads: () => reads,
    async close() {
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
    },
  };
}
