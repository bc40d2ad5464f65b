// The floor for a cold start: a fresh Node process with no library at all
// opens one TCP connection, speaks just enough of the PostgreSQL wire protocol
// (startup, trust auth, one simple query) and reads the row. Nothing a real
// function could do is cheaper, so the function's cold start is compared to it.
// Prints {init, invoke, total} in ms since the process started.
import { connect } from 'node:net';

const [host, portText, user, database, sqlText] = process.argv.slice(2);
const initStart = performance.now();
const initEnd = performance.now();

function message(type, body) {
  const header = Buffer.alloc(type ? 5 : 4);
  let offset = 0;
  if (type) offset = header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, offset);
  return Buffer.concat([header, body]);
}

const socket = connect({ host, port: Number(portText), noDelay: true });
let pending = Buffer.alloc(0);
let rows = 0;
let phase = 'startup';
const done = new Promise((resolve, reject) => {
  socket.on('error', reject);
  socket.on('connect', () => {
    const params = Buffer.from(`user\0${user}\0database\0${database}\0\0`, 'utf8');
    const version = Buffer.alloc(4);
    version.writeInt32BE(196608);
    socket.write(message('', Buffer.concat([version, params])));
  });
  socket.on('data', (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 5) {
      const type = String.fromCharCode(pending[0]);
      const length = pending.readInt32BE(1);
      if (pending.length < length + 1) break;
      const body = pending.subarray(5, length + 1);
      pending = pending.subarray(length + 1);
      if (type === 'E') return reject(new Error(body.toString('utf8')));
      if (type === 'R' && body.readInt32BE(0) !== 0) return reject(new Error('floor needs trust auth'));
      if (type === 'D') rows += 1;
      if (type === 'Z') {
        if (phase === 'startup') {
          phase = 'query';
          socket.write(message('Q', Buffer.from(`${sqlText}\0`, 'utf8')));
        } else {
          socket.end(message('X', Buffer.alloc(0)));
          return resolve(rows);
        }
      }
    }
  });
});
const count = await done;
const answered = performance.now();
if (count < 1) {
  console.error('floor query returned no row');
  process.exit(1);
}
console.log(
  JSON.stringify({ boot: initStart, init: initEnd - initStart, invoke: answered - initEnd, total: answered }),
);
process.exit(0);
