#!/usr/bin/env node
// tests/credentials/fake_aws.js - a stand-in for every AWS endpoint the credential providers
// talk to (EC2 instance metadata, ECS/EKS container endpoints, STS, SSO portal, Cognito): it
// replays one recorded http-traffic.json (the AWS SDK for Rust's recording format, used by
// tests/integration/test_credentials_replay.c) on 127.0.0.1. The client under test is pointed
// here with curl-style --connect-to (":80:127.0.0.1:<http>", ":443:127.0.0.1:<https>"), so URLs
// and Host headers stay the real AWS ones.
//
//   node fake_aws.js --traffic <http-traffic.json> [--cert <pem> --key <pem>] --report <file>
//                    [--verbose]
//
// Listens on two random ports (plain HTTP, and HTTPS with the given certificate when --cert and
// --key are given; 0 otherwise) and prints "READY <http_port> <https_port>" on stdout, nothing
// else. Every incoming request is answered with the recorded response of the next unconsumed
// recorded request (recorded connections in connection_id order) with the same method, path and
// query (query parameters compared as a sorted list, so their order does not matter); scheme and
// host are not matched, but the Host header and scheme seen are recorded next to the recorded
// ones. The response carries the recorded status, the recorded headers (without content-length
// and transfer-encoding: node sets those) and the body (the connection's Response-direction Data
// events, concatenated). A request nothing matches gets status 599 and is listed as unexpected.
//
// Extensions for hand-written cases, on a Response event (next to "Ok", inside "Ok" or on the
// Response action itself): "delay_ms": N answers N ms late; "close": true drops the connection
// without answering. A recorded connection with a Request but no Response (or an "Err"
// response) is also answered by dropping the connection.
//
// On SIGTERM (or SIGINT) it writes the report and exits 0:
//   {expected: <recorded requests>, consumed: <how many were matched>,
//    unexpected: [<request>...], unconsumed: [{connection_id, method, uri}...],
//    requests: [{method, url, scheme, host, headers, body, connection_id (null when unmatched),
//                expected_scheme, expected_host, mismatches: [{what, recorded, got}...] (where
//                the recording has them: the x-aws-ec2-metadata-token(-ttl-seconds) headers, the
//                SigV4 region/service, the form's Action and Version; and a request the
//                recording signed with temporary credentials must be signed with a key id and
//                x-amz-security-token this server handed out earlier), status (the status
//                sent, 599, "closed", or
//                "client-gone" when the client hung up before a delayed answer)}...]}
// It does the same by itself when its parent process goes away (checked twice a second).
// Logs (with --verbose) go to stderr.
'use strict';
const fs = require('fs');
const http = require('http');
const https = require('https');

function usage(msg) {
  if (msg) console.error('fake_aws:', msg);
  console.error('usage: fake_aws.js --traffic <http-traffic.json> [--cert <pem> --key <pem>] ' +
    '--report <file> [--verbose]');
  process.exit(2);
}

const args = {};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--verbose') { args.verbose = true; continue; }
  if (!['--traffic', '--cert', '--key', '--report'].includes(a)) usage(`unknown argument ${a}`);
  if (i + 1 >= process.argv.length) usage(`${a} needs a value`);
  args[a.slice(2)] = process.argv[++i];
}
if (!args.traffic || !args.report) usage('--traffic and --report are required');
if (!!args.cert !== !!args.key) usage('--cert and --key go together');

const log = (...a) => { if (args.verbose) console.error('fake_aws:', ...a); };

// ---- the recording ---------------------------------------------------------------------------

// Query parameters of a URL search string ("?a=1&b=2" or ""), decoded and sorted.
function queryKey(search) {
  const p = [];
  for (const [k, v] of new URLSearchParams(search)) p.push(`${k}=${v}`);
  p.sort();
  return p.join('&');
}

function dataText(d) {
  if (d == null) return '';
  if (typeof d === 'string') return d;
  if (typeof d.Utf8 === 'string') return d.Utf8;
  if (typeof d.Binary === 'string') return Buffer.from(d.Binary, 'base64').toString('latin1');
  if (Array.isArray(d.Binary)) return Buffer.from(d.Binary).toString('latin1');
  return '';
}

// One entry per recorded connection that has a Request, in connection_id order.
function loadTraffic(file) {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  const conns = new Map();
  const conn = (id) => {
    if (!conns.has(id)) {
      conns.set(id, { id, request: null, reqBody: [], response: null, respBody: [],
        delayMs: 0, close: false });
    }
    return conns.get(id);
  };
  for (const ev of doc.events || []) {
    const c = conn(ev.connection_id);
    const a = ev.action || {};
    if (a.Request) {
      const r = a.Request.request || a.Request;
      c.request = { uri: r.uri, method: String(r.method || 'GET').toUpperCase(),
        headers: r.headers || {} };
    } else if (a.Response) {
      const resp = a.Response.response || a.Response;
      const ok = resp.Ok;
      const ext = [a.Response, resp, ok || {}];
      for (const o of ext) {
        if (typeof o.delay_ms === 'number') c.delayMs = o.delay_ms;
        if (o.close === true) c.close = true;
      }
      if (ok) c.response = { status: ok.status, headers: ok.headers || {} };
      else c.close = true; // {"Err": ...}: the recorded exchange failed
    } else if (a.Data) {
      const t = dataText(a.Data.data);
      if (a.Data.direction === 'Response') c.respBody.push(t);
      else c.reqBody.push(t);
    }
  }
  const out = [];
  for (const c of [...conns.values()].sort((x, y) => x.id - y.id)) {
    if (!c.request) continue;
    const u = new URL(c.request.uri);
    c.path = u.pathname;
    c.query = queryKey(u.search);
    c.scheme = u.protocol.replace(':', '');
    c.host = u.host;
    if (!c.response) c.close = true;
    c.consumed = false;
    out.push(c);
  }
  return out;
}

// Temporary credentials this server handed out (IMDS, ECS, STS, ... bodies): session token ->
// access key id. A request signed with temporary credentials must use a pair from this list.
const served = new Map();
function noteServed(text) {
  const akid = /"AccessKeyId"\s*:\s*"([^"]*)"|<AccessKeyId>([^<]*)<\/AccessKeyId>/.exec(text);
  const tok = /"(?:Token|SessionToken)"\s*:\s*"([^"]*)"|<SessionToken>([^<]*)<\/SessionToken>/
    .exec(text);
  if (akid && tok) served.set(tok[1] ?? tok[2], akid[1] ?? akid[2]);
}

// What of a matched request must agree with the recording; the rest legitimately differs
// (dates, signatures, user agents, generated session names, and values some recordings got
// inconsistent: RoleArn, WebIdentityToken, and the signing credentials, which the recordings
// did not always edit along with the responses). Returns the differences.
const SIGV4_SCOPE = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/;
function compare(c, req, body) {
  const rh = {};
  for (const [k, v] of Object.entries(c.request.headers)) {
    rh[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  const out = [];
  for (const name of ['x-aws-ec2-metadata-token', 'x-aws-ec2-metadata-token-ttl-seconds']) {
    if (name in rh && req.headers[name] !== rh[name]) {
      out.push({ what: `header ${name}`, recorded: rh[name], got: req.headers[name] ?? null });
    }
  }
  const want = SIGV4_SCOPE.exec(rh.authorization || '');
  if (want) {
    const got = SIGV4_SCOPE.exec(req.headers.authorization || '');
    const w = want.slice(2).join('/');
    const g = got ? got.slice(2).join('/') : null;
    if (w !== g) {
      out.push({ what: 'SigV4 region/service', recorded: w,
        got: g ?? (req.headers.authorization || null) });
    }
    if ('x-amz-security-token' in rh) {
      // signed with temporary credentials: those this server handed out earlier
      const tok = req.headers['x-amz-security-token'];
      if (!served.has(tok)) {
        out.push({ what: 'x-amz-security-token (none of the session tokens served before)',
          recorded: rh['x-amz-security-token'], got: tok ?? null });
      } else if (!got || got[1] !== served.get(tok)) {
        out.push({ what: 'SigV4 key id (not the one served with that session token)',
          recorded: served.get(tok), got: got ? got[1] : null });
      }
    }
  }
  const rbody = c.reqBody.join('');
  if ((rh['content-type'] || '').includes('x-www-form-urlencoded') || /^Action=/.test(rbody)) {
    const rp = new URLSearchParams(rbody);
    const gp = new URLSearchParams(body);
    for (const k of ['Action', 'Version']) {
      if (rp.has(k) && rp.get(k) !== gp.get(k)) {
        out.push({ what: `form ${k}`, recorded: rp.get(k), got: gp.get(k) });
      }
    }
  }
  return out;
}

const recorded = loadTraffic(args.traffic);
const requests = [];
const unexpected = [];

function report() {
  return {
    expected: recorded.length,
    consumed: recorded.filter((c) => c.consumed).length,
    unexpected,
    unconsumed: recorded.filter((c) => !c.consumed)
      .map((c) => ({ connection_id: c.id, method: c.request.method, uri: c.request.uri })),
    requests,
  };
}

// ---- serving -----------------------------------------------------------------------------------

function handler(scheme) {
  return (req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const u = new URL(req.url, 'http://placeholder');
      const q = queryKey(u.search);
      const method = req.method.toUpperCase();
      const c = recorded.find((r) => !r.consumed && r.request.method === method &&
        r.path === u.pathname && r.query === q);
      const rec = { method: req.method, url: req.url, scheme, host: req.headers.host || null,
        headers: req.headers, body, connection_id: null, expected_scheme: null,
        expected_host: null, mismatches: [], status: null };
      requests.push(rec);
      if (!c) {
        log('unexpected', method, scheme, req.headers.host, req.url);
        unexpected.push(rec);
        rec.status = 599;
        res.writeHead(599, { 'content-type': 'text/plain' });
        res.end(`fake_aws: no recorded request matches ${method} ${req.url}\n`);
        return;
      }
      c.consumed = true;
      rec.connection_id = c.id;
      rec.expected_scheme = c.scheme;
      rec.expected_host = c.host;
      rec.mismatches = compare(c, req, body);
      log(`#${c.id}`, method, scheme, req.headers.host, req.url,
        c.close ? 'close' : c.response.status, c.delayMs ? `after ${c.delayMs} ms` : '');
      const answer = () => {
        if (c.close) {
          rec.status = 'closed';
          req.socket.destroy();
          return;
        }
        if (res.destroyed || req.socket.destroyed) {
          rec.status = 'client-gone'; // the client gave up while we waited (delay_ms)
          return;
        }
        rec.status = c.response.status;
        for (const [name, values] of Object.entries(c.response.headers)) {
          const n = name.toLowerCase();
          if (n === 'content-length' || n === 'transfer-encoding') continue;
          res.setHeader(name, values);
        }
        res.statusCode = c.response.status;
        const text = c.respBody.join('');
        noteServed(text);
        res.end(text);
      };
      if (c.delayMs > 0) setTimeout(answer, c.delayMs);
      else answer();
    });
  };
}

const servers = [http.createServer(handler('http'))];
if (args.cert) {
  servers.push(https.createServer({ cert: fs.readFileSync(args.cert),
    key: fs.readFileSync(args.key) }, handler('https')));
}
for (const s of servers) {
  s.on('clientError', (err, socket) => { log('client error:', err.message); socket.destroy(); });
  s.on('tlsClientError', (err) => log('TLS client error:', err.message));
}

let listening = 0;
for (const s of servers) {
  s.listen(0, '127.0.0.1', () => {
    if (++listening === servers.length) {
      const ports = servers.map((x) => x.address().port);
      if (ports.length === 1) ports.push(0);
      process.stdout.write(`READY ${ports[0]} ${ports[1]}\n`);
    }
  });
  s.on('error', (err) => { console.error('fake_aws: listen:', err.message); process.exit(1); });
}

function finish(sig) {
  log('got', sig, 'writing', args.report);
  try {
    fs.writeFileSync(args.report, JSON.stringify(report(), null, 2) + '\n');
  } catch (err) {
    console.error('fake_aws: cannot write report:', err.message);
    process.exit(1);
  }
  process.exit(0);
}
process.on('SIGTERM', () => finish('SIGTERM'));
process.on('SIGINT', () => finish('SIGINT'));
// The test that started us died without stopping us (we were re-parented): do not linger.
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) finish('parent exit'); }, 500).unref();
