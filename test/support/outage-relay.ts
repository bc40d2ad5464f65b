/**
 * A TCP port in front of the test database that either relays to it or, while
 * the database is "away", accepts connections and never says a word: a host
 * that black-holes them, as during an RDS failover (the connect waits for its
 * timeout instead of failing at once). It counts the connections it accepts,
 * so a test can tell "no connect attempt was made" from "one was made".
 */
import { createConnection, createServer, type Socket } from 'node:net';

export interface OutageRelay {
  /** `databaseUrl` with the relay's host and port. */
  url(databaseUrl: string): string;
  /** From now on, new connections get no answer (those already relayed are cut). */
  blackHole(): void;
  /** From now on, new connections reach the database again. */
  restore(): void;
  /** Connections accepted so far, answered or not. */
  accepted(): number;
  close(): Promise<void>;
}

export async function startOutageRelay(target: { host: string; port: number }): Promise<OutageRelay> {
  let away = false;
  let accepted = 0;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const relayed = new Set<Socket>();
  const server = createServer((client) => {
    accepted += 1;
    track(client);
    if (away) return;
    const upstream = createConnection(target);
    track(upstream);
    relayed.add(client);
    client.pipe(upstream).pipe(client);
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as { port: number }).port;
  return {
    url(databaseUrl) {
      const url = new URL(databaseUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.href;
    },
    blackHole() {
      away = true;
      for (const socket of relayed) socket.destroy();
      relayed.clear();
    },
    restore() {
      away = false;
    },
    accepted: () => accepted,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((ok) => server.close(ok));
    },
  };
}
