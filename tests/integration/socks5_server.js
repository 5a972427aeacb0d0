#!/usr/bin/env node
// tests/integration/socks5_server.js - a small SOCKS5 proxy (RFC 1928, CONNECT only) for the
// proxy integration tests, with optional username/password authentication (RFC 1929). Started
// by fixture.sh fx_start_socks5; dante-server (danted) covers the no-authentication case with a
// real server, but it checks usernames against system accounts, hence this one.
//
//   node socks5_server.js <listenPort> [--user <u> --pass <p>]
//
// Listens on 127.0.0.1:<listenPort>. Without --user it offers method 00 (no authentication)
// only; with it, method 02 only, and a wrong username or password gets status 01 and a close.
// ATYP IPv4, IPv6 and domain are accepted (names resolved here); the reply carries the code of
// the upstream failure (5 connection refused, 4 host unreachable / unknown name, 3 network
// unreachable, 1 otherwise) or 0 with the bound address, then bytes are piped both ways. Every
// step is logged on stderr (never the password).
'use strict';
const net = require('net');

const args = process.argv.slice(2);
const port = Number(args[0]);
let user = null;
let pass = null;
for (let i = 1; i < args.length; i += 2) {
  if (args[i] === '--user') user = args[i + 1];
  else if (args[i] === '--pass') pass = args[i + 1];
  else {
    console.error('usage: socks5_server.js <listenPort> [--user <u> --pass <p>]');
    process.exit(2);
  }
}
if (!port) {
  console.error('usage: socks5_server.js <listenPort> [--user <u> --pass <p>]');
  process.exit(2);
}
const method = user !== null ? 0x02 : 0x00;
const log = (...a) => console.error(new Date().toISOString(), 'socks5:', ...a);

function replyCode(err) {
  switch (err.code) {
    case 'ECONNREFUSED': return 5;
    case 'EHOSTUNREACH': case 'ENOTFOUND': case 'EAI_AGAIN': return 4;
    case 'ENETUNREACH': return 3;
    default: return 1;
  }
}

function reply(sock, code, addr) {
  const b = Buffer.from([5, code, 0, 1, 0, 0, 0, 0, 0, 0]);
  if (addr && net.isIPv4(addr.address)) {
    addr.address.split('.').forEach((o, i) => { b[4 + i] = Number(o); });
    b.writeUInt16BE(addr.port, 8);
  }
  sock.write(b);
}

const server = net.createServer((sock) => {
  let buf = Buffer.alloc(0);
  let stage = 'greeting';
  const early = []; // bytes the client sent while we were connecting upstream
  const id = `${sock.remotePort}`;
  sock.on('error', (e) => log(id, 'client:', e.message));
  const fail = (why) => { log(id, why); sock.destroy(); };

  const step = () => {
    if (stage === 'greeting') {
      if (buf.length >= 1 && buf[0] !== 5) return fail(`greeting of version ${buf[0]}`);
      if (buf.length < 2 || buf.length < 2 + buf[1]) return;
      const offered = [...buf.subarray(2, 2 + buf[1])];
      buf = buf.subarray(2 + buf[1]);
      if (!offered.includes(method)) {
        log(id, `offered [${offered}], wanted ${method}: refusing`);
        sock.end(Buffer.from([5, 0xff]));
        stage = 'done';
        return;
      }
      sock.write(Buffer.from([5, method]));
      stage = method === 2 ? 'auth' : 'request';
      return step();
    }
    if (stage === 'auth') {
      if (buf.length < 2) return;
      const ulen = buf[1];
      if (buf.length < 2 + ulen + 1) return;
      const plen = buf[2 + ulen];
      if (buf.length < 3 + ulen + plen) return;
      const u = buf.subarray(2, 2 + ulen).toString();
      const p = buf.subarray(3 + ulen, 3 + ulen + plen).toString();
      buf = buf.subarray(3 + ulen + plen);
      if (u !== user || p !== pass) {
        log(id, `authentication refused for user '${u}'`);
        sock.end(Buffer.from([1, 1]));
        stage = 'done';
        return;
      }
      log(id, `authenticated user '${u}'`);
      sock.write(Buffer.from([1, 0]));
      stage = 'request';
      return step();
    }
    if (stage === 'request') {
      if (buf.length < 5) return;
      let host;
      let at;
      if (buf[3] === 1) {
        if (buf.length < 10) return;
        host = [...buf.subarray(4, 8)].join('.');
        at = 8;
      } else if (buf[3] === 4) {
        if (buf.length < 22) return;
        const h = buf.subarray(4, 20).toString('hex');
        host = h.match(/.{4}/g).join(':');
        at = 20;
      } else if (buf[3] === 3) {
        if (buf.length < 5 + buf[4] + 2) return;
        host = buf.subarray(5, 5 + buf[4]).toString();
        at = 5 + buf[4];
      } else {
        reply(sock, 8);
        return fail(`address type ${buf[3]}`);
      }
      const dport = buf.readUInt16BE(at);
      const rest = buf.subarray(at + 2);
      if (buf[0] !== 5 || buf[1] !== 1) {
        reply(sock, 7);
        return fail(`command ${buf[1]}`);
      }
      stage = 'connecting';
      log(id, `CONNECT ${host}:${dport} (ATYP ${buf[3]})`);
      const up = net.connect({ host, port: dport });
      up.on('connect', () => {
        reply(sock, 0, up.address());
        stage = 'open';
        if (rest.length) up.write(rest);
        early.forEach((d) => up.write(d));
        sock.pipe(up);
        up.pipe(sock);
      });
      up.on('error', (e) => {
        if (stage === 'connecting') {
          log(id, `upstream ${host}:${dport}: ${e.message}`);
          reply(sock, replyCode(e));
          sock.end();
          stage = 'done';
        } else {
          sock.destroy();
        }
      });
      sock.on('close', () => up.destroy());
      up.on('close', () => sock.destroy());
    }
  };

  sock.on('data', (d) => {
    if (stage === 'connecting') early.push(d);
    if (stage === 'open' || stage === 'done' || stage === 'connecting') return;
    buf = Buffer.concat([buf, d]);
    step();
  });
});

server.listen(port, '127.0.0.1', () => log(`listening on 127.0.0.1:${port}`,
  user !== null ? 'with username/password' : 'without authentication'));
// stop when the parent (the fixture) is gone
const parent = process.ppid;
setInterval(() => {
  try { process.kill(parent, 0); } catch (e) { process.exit(0); }
}, 1000).unref();
