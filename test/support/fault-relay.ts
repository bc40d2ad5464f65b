/**
 * A PostgreSQL-protocol-aware TCP relay in front of the real test database,
 * for driving connection failures at an exact protocol step instead of by
 * timing luck: it forwards whole messages, and an armed fault fires at one
 * step of one connection, sending what a server that shuts down sends
 * (ErrorResponse FATAL 57P01, then the socket closes) or just closing.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type Action =
  /** Send FATAL 57P01 in place of what came next, then close. */
  | 'fatal'
  /** Close the socket without a word. */
  | 'close'
  /** Drop the message and everything after it: a server that stopped answering. */
  | 'swallow';

export type Trigger =
  /** The server asks for authentication (the client is still connecting). */
  | { step: 'auth' }
  /**
   * The server's ReadyForQuery that ends start-up is forwarded, and FATAL
   * 57P01 follows in the same TCP write (the client just became usable).
   */
  | { step: 'ready' }
  /** The client sends a statement whose text matches (the statement never reaches the server). */
  | { step: 'query'; sql: RegExp }
  /** The answer to a matching statement is forwarded, and FATAL 57P01 follows in the same TCP write. */
  | { step: 'answered'; sql: RegExp };

export interface Fault {
  trigger: Trigger;
  action: Action;
  /** Only the n-th connection the relay accepts (1-based); any by default. */
  connection?: number;
}

const fatal57P01 = (() => {
  const fields = Buffer.concat(
    [
      ['S', 'FATAL'],
      ['V', 'FATAL'],
      ['C', '57P01'],
      ['M', 'terminating connection due to administrator command'],
    ].map(([code, text]) => Buffer.from(`${code}${text}\0`)),
  );
  const body = Buffer.concat([fields, Buffer.from([0])]);
  const header = Buffer.alloc(5);
  header.write('E', 0);
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
})();

/** Splits a byte stream into whole messages; the first one may have no type byte (start-up). */
class Framer {
  #buffer = Buffer.alloc(0);
  constructor(private untypedFirst: boolean) {}

  push(chunk: Buffer): Buffer[] {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    const messages: Buffer[] = [];
    for (;;) {
      const offset = this.untypedFirst ? 0 : 1;
      if (this.#buffer.length < offset + 4) break;
      const length = this.#buffer.readInt32BE(offset) + offset;
      if (this.#buffer.length < length) break;
      messages.push(this.#buffer.subarray(0, length));
      this.#buffer = this.#buffer.subarray(length);
      this.untypedFirst = false;
    }
    return messages;
  }
}

/** The SQL text of a simple Query ('Q') or a Parse ('P') message. */
function statementText(message: Buffer): string | undefined {
  const type = String.fromCharCode(message[0] ?? 0);
  if (type === 'Q') return message.subarray(5, message.indexOf(0, 5)).toString();
  if (type === 'P') {
    const nameEnd = message.indexOf(0, 5);
    return message.subarray(nameEnd + 1, message.indexOf(0, nameEnd + 1)).toString();
  }
  return undefined;
}

export interface FaultRelay {
  port: number;
  /** `url` with the relay's host and port. */
  url(databaseUrl: string): string;
  /** Arms a one-shot fault; resolves when it has fired. */
  arm(fault: Fault): Promise<void>;
  /** Sends FATAL 57P01 to (or closes) every open connection now, between two messages. */
  killAll(action: 'fatal' | 'close'): number;
  /** Connections accepted so far. */
  accepted(): number;
  close(): Promise<void>;
}

export async function startFaultRelay(target: { host: string; port: number }): Promise<FaultRelay> {
  let accepted = 0;
  const open = new Set<{ client: Socket; server: Socket; kill: (action: 'fatal' | 'close') => void }>();
  let armed: { fault: Fault; fired: () => void } | undefined;

  const relay: Server = createServer((client) => {
    accepted += 1;
    const number = accepted;
    const server = createConnection(target);
    const fromClient = new Framer(true);
    const fromServer = new Framer(false);
    let startingUp = true;
    let dead = false;
    /** The client sent a statement that an 'answered' fault waits for. */
    let awaitingAnswer = false;
    const mine = () =>
      armed !== undefined && (armed.fault.connection === undefined || armed.fault.connection === number);
    const fire = () => {
      const fired = armed?.fired;
      armed = undefined;
      fired?.();
    };
    const kill = (action: Action, before?: Buffer) => {
      if (dead) return;
      dead = true;
      server.destroy();
      if (action === 'swallow') return; // both sides stay silent; the client's socket stays open
      if (action === 'fatal') client.end(before ? Buffer.concat([before, fatal57P01]) : fatal57P01);
      else if (before) client.end(before);
      else client.destroy();
    };
    const entry = { client, server, kill: (action: 'fatal' | 'close') => kill(action) };
    open.add(entry);
    const forget = () => {
      open.delete(entry);
      client.destroy();
      server.destroy();
    };
    client.on('close', forget);
    server.on('close', () => {
      if (!dead) client.end();
    });
    client.on('error', forget);
    server.on('error', forget);

    client.on('data', (chunk: Buffer) => {
      if (dead) return;
      for (const message of fromClient.push(chunk)) {
        const sql = statementText(message);
        const trigger = armed?.fault.trigger;
        if (sql !== undefined && mine() && trigger && 'sql' in trigger && trigger.sql.test(sql)) {
          if (trigger.step === 'query') {
            const action = armed?.fault.action ?? 'fatal';
            fire();
            kill(action);
            return;
          }
          awaitingAnswer = true;
        }
        server.write(message);
      }
    });

    server.on('data', (chunk: Buffer) => {
      if (dead) return;
      const out: Buffer[] = [];
      for (const message of fromServer.push(chunk)) {
        const type = String.fromCharCode(message[0] ?? 0);
        const trigger = armed?.fault.trigger;
        if (mine() && trigger) {
          const action = armed?.fault.action ?? 'fatal';
          if (trigger.step === 'auth' && startingUp && type === 'R') {
            fire();
            kill(action, out.length > 0 ? Buffer.concat(out) : undefined);
            return;
          }
          const readyAfterStartup = trigger.step === 'ready' && startingUp && type === 'Z';
          const answered = trigger.step === 'answered' && awaitingAnswer && type === 'Z';
          if (readyAfterStartup || answered) {
            out.push(message);
            fire();
            kill(action, Buffer.concat(out));
            return;
          }
        }
        if (type === 'Z') {
          startingUp = false;
          awaitingAnswer = false;
        }
        out.push(message);
      }
      if (out.length > 0) client.write(Buffer.concat(out));
    });
  });
  await new Promise<void>((ok) => relay.listen(0, '127.0.0.1', ok));
  const port = (relay.address() as { port: number }).port;

  return {
    port,
    url(databaseUrl) {
      const url = new URL(databaseUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.href;
    },
    arm(fault) {
      return new Promise((fired) => {
        armed = { fault, fired };
      });
    },
    killAll(action) {
      const all = [...open];
      for (const connection of all) connection.kill(action);
      return all.length;
    },
    accepted: () => accepted,
    async close() {
      armed = undefined;
      for (const connection of open) {
        connection.client.destroy();
        connection.server.destroy();
      }
      await new Promise((ok) => relay.close(ok));
    },
  };
}
