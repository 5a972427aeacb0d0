#!/usr/bin/env node
// tests/integration/sigv4_front.js - a stand-in for AWS IoT's WebSocket endpoint: it checks the
// SigV4 presigned upgrade URL (the AWS IoT form: service iotdevicegateway, signed header host,
// empty-payload hash, X-Amz-Security-Token not signed) with an independent implementation on
// node's crypto, then forwards the upgrade request to mosquitto's websockets listener and pipes
// both ways. A wrong signature, key, region, service or a stale date gets "403 Forbidden".
// With --tls it serves wss:// (node's https server with that certificate and key; ALPN
// http/1.1 when offered), the upstream hop to mosquitto staying plain. Started by fixture.sh
// fx_start_sigv4_front (once plain, once with --tls).
//
//   node sigv4_front.js <listenPort> <targetPort> <accessKeyId> <secretAccessKey> <region>
//                       [--tls <cert.pem> <key.pem>]
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const https = require('https');
const net = require('net');

const usage = () => {
  console.error('usage: sigv4_front.js <listenPort> <targetPort> <akid> <secret> <region> ' +
    '[--tls <cert> <key>]');
  process.exit(2);
};
const argv = process.argv.slice(2);
const [listenPort, targetPort, akid, secret, region] = argv;
if (!listenPort || !targetPort || !akid || !secret || !region) usage();
let tls = null;
if (argv.length > 5) {
  if (argv[5] !== '--tls' || argv.length !== 8) usage();
  tls = { cert: fs.readFileSync(argv[6]), key: fs.readFileSync(argv[7]) };
}
const log = (...a) => console.error(new Date().toISOString(), 'sigv4_front:', ...a);
const sha256 = (s) => crypto.createHash('sha256').update(s).digest('hex');
const hmac = (k, s) => crypto.createHmac('sha256', k).update(s).digest();
// RFC 3986 unreserved characters stay, everything else is %XX (upper case), as SigV4 wants
const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) =>
  '%' + c.charCodeAt(0).toString(16).toUpperCase());

// Why the request is refused, or null when its signature is right.
function check(req) {
  const url = new URL(req.url, 'http://x');
  if (url.pathname !== '/mqtt') return `path ${url.pathname}`;
  const q = url.searchParams;
  if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return 'algorithm';
  if (q.get('X-Amz-SignedHeaders') !== 'host') return 'signed headers';
  const date = q.get('X-Amz-Date') || '';
  const m = /^(\d{8})T(\d{6})Z$/.exec(date);
  if (!m) return 'date';
  const when = Date.parse(`${m[1].slice(0, 4)}-${m[1].slice(4, 6)}-${m[1].slice(6)}T` +
    `${m[2].slice(0, 2)}:${m[2].slice(2, 4)}:${m[2].slice(4)}Z`);
  if (Math.abs(Date.now() - when) > 15 * 60 * 1000) return 'date too far from now';
  const scope = `${m[1]}/${region}/iotdevicegateway/aws4_request`;
  if (q.get('X-Amz-Credential') !== `${akid}/${scope}`) return 'credential scope or key id';
  if (q.has('X-Amz-Expires')) return 'X-Amz-Expires is not used by AWS IoT';
  const params = [];
  for (const [k, v] of q) {
    if (k !== 'X-Amz-Signature' && k !== 'X-Amz-Security-Token') params.push([enc(k), enc(v)]);
  }
  params.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1));
  const canonical = ['GET', '/mqtt', params.map((p) => p.join('=')).join('&'),
    `host:${req.headers.host}`, '', 'host', sha256('')].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', date, scope, sha256(canonical)].join('\n');
  let key = hmac('AWS4' + secret, m[1]);
  for (const part of [region, 'iotdevicegateway', 'aws4_request']) key = hmac(key, part);
  const want = crypto.createHmac('sha256', key).update(toSign).digest('hex');
  if (q.get('X-Amz-Signature') !== want) return 'signature mismatch';
  return null;
}

const refuse = (req, res) => { res.writeHead(400); res.end(); };
const server = tls
  ? https.createServer({ ...tls, ALPNProtocols: ['http/1.1'] }, refuse)
  : http.createServer(refuse);
if (tls) server.on('tlsClientError', (err) => log('TLS client error:', err.message));
server.on('upgrade', (req, socket, head) => {
  const why = check(req);
  if (why) {
    log('refused:', why);
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  log('accepted', req.headers.host, req.url.length, 'byte URL');
  const up = net.connect(Number(targetPort), '127.0.0.1', () => {
    let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      text += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
    }
    up.write(text + '\r\n');
    if (head && head.length) up.write(head);
    socket.pipe(up).pipe(socket);
  });
  const drop = () => { socket.destroy(); up.destroy(); };
  up.on('error', drop);
  socket.on('error', drop);
  up.on('close', drop);
  socket.on('close', drop);
});
server.listen(Number(listenPort), '127.0.0.1',
  () => log('listening on', listenPort, tls ? '(TLS)' : ''));
setTimeout(() => process.exit(0), 30 * 60 * 1000).unref();
