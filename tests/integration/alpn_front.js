#!/usr/bin/env node
// tests/integration/alpn_front.js - an ALPN-enforcing TLS front for the integration tests
// (mosquitto negotiates no ALPN on its listeners). Started by fixture.sh fx_start_alpn_front.
//
//   node alpn_front.js <listenPort> <targetPort> <cert.pem> <key.pem> <proto>...
//
// Listens on 127.0.0.1:<listenPort> with the given certificate and selects one of <proto>...;
// each accepted connection is piped to 127.0.0.1:<targetPort> (mosquitto's plain listener).
// A client offering ALPN without any of <proto> fails the handshake with alert 120
// (no_application_protocol); a client offering no ALPN at all completes the handshake and is
// closed at once, since a front like AWS IoT's would not route it.
'use strict';
const fs = require('fs');
const net = require('net');
const tls = require('tls');

const [listenPort, targetPort, certFile, keyFile, ...protos] = process.argv.slice(2);
if (!listenPort || !targetPort || !certFile || !keyFile || protos.length === 0) {
  console.error('usage: alpn_front.js <listenPort> <targetPort> <cert> <key> <proto>...');
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

server.on('secureConnection', (client) => {
  if (!client.alpnProtocol) {
    log('client offered no ALPN: closing');
    client.destroy();
    return;
  }
  const upstream = net.connect({ host: '127.0.0.1', port: Number(targetPort) });
  client.pipe(upstream);
  upstream.pipe(client);
  const done = () => { client.destroy(); upstream.destroy(); };
  client.on('error', done);
  upstream.on('error', (e) => { log('upstream:', e.message); done(); });
  client.on('close', done);
  upstream.on('close', done);
});
server.on('tlsClientError', (e) => log('handshake failed:', e.code || '', e.message));

server.listen(Number(listenPort), '127.0.0.1', () => log(`listening on ${listenPort}, ALPN [${protos.join(',')}]`));

const stop = () => { server.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
