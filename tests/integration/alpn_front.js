#!/usr/bin/env node
// tests/integration/alpn_front.js - an ALPN-enforcing TLS front for the integration tests
// (mosquitto negotiates no ALPN on its listeners). Started by fixture.sh fx_start_alpn_front.
//
//   node alpn_front.js <listenPort> <targetPort> <cert.pem> <key.pem> <proto>...
//        [--expect-username <u> --expect-password <p>]
//
// Listens on 127.0.0.1:<listenPort> with the given certificate and selects one of <proto>...;
// each accepted connection is piped to 127.0.0.1:<targetPort> (mosquitto's plain listener).
// A client offering ALPN without any of <proto> fails the handshake with alert 120
// (no_application_protocol); a client offering no ALPN at all completes the handshake and is
// closed at once, since a front like AWS IoT's would not route it.
//
// With --expect-username/--expect-password (a stand-in for an AWS IoT custom authorizer) the
// front reads the client's first packet, which must be an MQTT 5 CONNECT, before connecting
// upstream: its username, without the SDK metrics parameters "SDK=..." and "Version=...", must
// equal <u> and its password <p>; otherwise it answers CONNACK 0x86 (bad user name or password)
// and closes. A match is logged as "credentials accepted", a refusal as "credentials refused"
// with the reason (the password is never logged).
'use strict';
const fs = require('fs');
const net = require('net');
const tls = require('tls');

const args = process.argv.slice(2);
let expectUsername = null;
let expectPassword = null;
for (let i = 0; i < args.length;) {
  if ((args[i] === '--expect-username' || args[i] === '--expect-password') && i + 1 < args.length) {
    if (args[i] === '--expect-username') expectUsername = args[i + 1];
    else expectPassword = args[i + 1];
    args.splice(i, 2);
  } else {
    i++;
  }
}
const checkCredentials = expectUsername !== null || expectPassword !== null;
const [listenPort, targetPort, certFile, keyFile, ...protos] = args;
if (!listenPort || !targetPort || !certFile || !keyFile || protos.length === 0) {
  console.error('usage: alpn_front.js <listenPort> <targetPort> <cert> <key> <proto>... ' +
                '[--expect-username <u> --expect-password <p>]');
  process.exit(2);
}

const log = (...a) => console.error(new Date().toISOString(), 'alpn_front:', ...a);

const server = tls.createServer({
  cert: fs.readFileSync(certFile),
  key: fs.readFileSync(keyFile),
  // ALPNCallback rather than ALPNProtocols, so the refusal does not depend on node's default:
  // returning undefined makes node abort the handshake with no_application_protocol.
  ALPNCallback: ({ servername, protocols }) => {
    const pick = protocols.find((p) => protos.includes(p));
    log(`client offered [${protocols.join(',')}] sni=${servername || '-'}: ` +
        (pick ? `selected ${pick}` : 'none acceptable, alert 120'));
    return pick;
  },
});

// A variable byte integer at buf[off]: [value, bytes] or null when incomplete/invalid.
function vbi(buf, off) {
  let value = 0;
  for (let i = 0; i < 4; i++) {
    if (off + i >= buf.length) return null;
    const b = buf[off + i];
    value += (b & 0x7f) * 2 ** (7 * i);
    if (!(b & 0x80)) return [value, i + 1];
  }
  return null;
}

// The username and password of an MQTT 5 CONNECT (the whole packet in pkt), or an error string.
function parseConnect(pkt) {
  if (pkt[0] !== 0x10) return 'first packet is not a CONNECT';
  const rl = vbi(pkt, 1);
  let p = 1 + rl[1];
  const str = () => {
    if (p + 2 > pkt.length) throw new Error('truncated');
    const n = pkt.readUInt16BE(p);
    if (p + 2 + n > pkt.length) throw new Error('truncated');
    const v = pkt.subarray(p + 2, p + 2 + n);
    p += 2 + n;
    return v;
  };
  try {
    if (str().toString() !== 'MQTT' || pkt[p] !== 5) return 'not MQTT 5';
    const flags = pkt[p + 1];
    p += 4; // version, flags, keep alive
    const props = vbi(pkt, p);
    p += props[1] + props[0];
    str(); // client id
    if (flags & 0x04) { // will: properties, topic, payload
      const wp = vbi(pkt, p);
      p += wp[1] + wp[0];
      str();
      str();
    }
    const username = flags & 0x80 ? str().toString('utf8') : null;
    const password = flags & 0x40 ? str() : null;
    return { username, password };
  } catch (e) {
    return `malformed CONNECT (${e.message})`;
  }
}

// The username without the SDK metrics parameters (SDK=..., Version=...).
function withoutMetrics(u) {
  const q = u.indexOf('?');
  if (q < 0) return u;
  const params = u.slice(q + 1).split('&').filter((kv) => !/^(SDK|Version)=/.test(kv));
  return params.length ? `${u.slice(0, q)}?${params.join('&')}` : u.slice(0, q);
}

// Wait for the first whole packet; call done(packet) or refuse.
function readFirstPacket(client, done) {
  let buf = Buffer.alloc(0);
  const onData = (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    const rl = vbi(buf, 1);
    if (!rl) {
      if (buf.length >= 5) { log('credentials refused: bad fixed header'); client.destroy(); }
      return;
    }
    const total = 1 + rl[1] + rl[0];
    if (total > 1 << 20) { log('credentials refused: CONNECT too large'); client.destroy(); return; }
    if (buf.length < total) return;
    client.removeListener('data', onData);
    client.pause();
    done(buf.subarray(0, total), buf.subarray(total));
  };
  client.on('data', onData);
}

function pipeUpstream(client, first) {
  const upstream = net.connect({ host: '127.0.0.1', port: Number(targetPort) });
  if (first && first.length) upstream.write(first);
  client.pipe(upstream);
  upstream.pipe(client);
  const done = () => { client.destroy(); upstream.destroy(); };
  client.on('error', done);
  upstream.on('error', (e) => { log('upstream:', e.message); done(); });
  client.on('close', done);
  upstream.on('close', done);
}

server.on('secureConnection', (client) => {
  if (!client.alpnProtocol) {
    log('client offered no ALPN: closing');
    client.destroy();
    return;
  }
  if (!checkCredentials) {
    pipeUpstream(client, null);
    return;
  }
  client.on('error', () => client.destroy());
  readFirstPacket(client, (pkt, rest) => {
    const c = parseConnect(pkt);
    let why = typeof c === 'string' ? c : '';
    if (!why && expectUsername !== null &&
        (c.username === null || withoutMetrics(c.username) !== expectUsername)) {
      why = c.username === null ? 'no username' : `username mismatch: got '${c.username}'`;
    }
    if (!why && expectPassword !== null &&
        (c.password === null || !c.password.equals(Buffer.from(expectPassword, 'utf8')))) {
      why = c.password === null ? 'no password' : 'wrong password';
    }
    if (why) {
      log(`credentials refused: ${why}`);
      // CONNACK: no session present, reason 0x86 bad user name or password, no properties
      client.end(Buffer.from([0x20, 0x03, 0x00, 0x86, 0x00]));
      setTimeout(() => client.destroy(), 1000).unref();
      return;
    }
    log('credentials accepted');
    pipeUpstream(client, Buffer.concat([pkt, rest]));
  });
});
server.on('tlsClientError', (e) => log('handshake failed:', e.code || '', e.message));

server.listen(Number(listenPort), '127.0.0.1', () => log(`listening on ${listenPort}, ALPN [${protos.join(',')}]`));

const stop = () => { server.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
