#!/usr/bin/env node
// tests/integration/mqttjs_peer.js - the MQTT.js side of test_mqttjs.c, talking to the C client
// through mosquitto. Uses npm `mqtt` (pinned in tests/interop/package.json; `npm ci` there).
//
//   node mqttjs_peer.js pub <port> <topic>
//       connect (MQTT 5), publish one retained QoS 1 message carrying every PUBLISH property
//       (the values below), print "puback", disconnect, "done".
//   node mqttjs_peer.js sub <port> <topic> <count> <subscription id>
//       connect, subscribe at QoS 1 with no-local, retain-as-published, retain handling 2 and the
//       subscription identifier, print "granted=<qos>" and "ready"; print each message received
//       as "msg.begin", key=value lines, "msg.end"; after <count> messages disconnect, "done".
//   Any further argument is ignored (the C test passes FX_DIR, so the fixture's watchdog can
//   tell this process is its own).
//
// Output: one item per line on stdout; strings and binaries as lowercase hex of their bytes
// (UTF-8 for strings), numbers in decimal:
//   topic= payload= qos= retain= dup= payloadFormatIndicator= messageExpiryInterval=
//   contentType= responseTopic= correlationData= userProperty=<hex name>:<hex value> (one line
//   per pair) subscriptionIdentifier= (one line per id) topicAlias=
// Errors: "error=<text>" and exit 1; "timeout" and exit 2 after 20 s; exit 3 when the mqtt
// module is missing. Exit 0 after "done".
'use strict'

const path = require('path')

// Keep in sync with test_mqttjs.c.
const JS_PAYLOAD = 'hello from MQTT.js \u2713'
const JS_PROPERTIES = {
  payloadFormatIndicator: true,
  messageExpiryInterval: 3600,
  contentType: 'text/plain; charset=utf-8',
  responseTopic: 'reply/to/mqttjs',
  correlationData: Buffer.from([0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff]),
  userProperties: {
    rep: ['first', 'second'],
    lang: 'Gr\u00fc\u00dfe \u2713 \u65e5\u672c'
  }
}
const TIMEOUT_MS = 20000

function out (line) {
  process.stdout.write(line + '\n')
}

function hex (v) {
  if (Buffer.isBuffer(v)) return v.toString('hex')
  return Buffer.from(String(v), 'utf8').toString('hex')
}

function loadMqtt () {
  const candidates = [path.join(__dirname, '..', 'interop', 'node_modules', 'mqtt'), 'mqtt']
  for (const c of candidates) {
    try {
      return require(c)
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e
    }
  }
  out('error=npm package mqtt not found: run `npm ci` in tests/interop')
  process.exit(3)
}

function printMessage (topic, payload, packet) {
  const p = packet.properties || {}
  out('msg.begin')
  out('topic=' + hex(topic))
  out('qos=' + packet.qos)
  out('retain=' + (packet.retain ? 1 : 0))
  out('dup=' + (packet.dup ? 1 : 0))
  out('payload=' + hex(payload))
  if (p.payloadFormatIndicator !== undefined) {
    out('payloadFormatIndicator=' + (p.payloadFormatIndicator ? 1 : 0))
  }
  if (p.messageExpiryInterval !== undefined) {
    out('messageExpiryInterval=' + p.messageExpiryInterval)
  }
  if (p.contentType !== undefined) out('contentType=' + hex(p.contentType))
  if (p.responseTopic !== undefined) out('responseTopic=' + hex(p.responseTopic))
  if (p.correlationData !== undefined) out('correlationData=' + hex(p.correlationData))
  for (const [name, value] of Object.entries(p.userProperties || {})) {
    for (const v of Array.isArray(value) ? value : [value]) {
      out('userProperty=' + hex(name) + ':' + hex(v))
    }
  }
  if (p.subscriptionIdentifier !== undefined) {
    const ids = p.subscriptionIdentifier
    for (const id of Array.isArray(ids) ? ids : [ids]) out('subscriptionIdentifier=' + id)
  }
  if (p.topicAlias !== undefined) out('topicAlias=' + p.topicAlias)
  out('msg.end')
}

function main () {
  const [mode, portArg, topic, countArg, subIdArg] = process.argv.slice(2)
  const port = Number(portArg)
  if (!['pub', 'sub'].includes(mode) || !(port > 0) || !topic) {
    out('error=usage: mqttjs_peer.js pub|sub <port> <topic> [<count> <subscription id>]')
    process.exit(1)
  }
  const mqtt = loadMqtt()
  let finished = false
  const timer = setTimeout(() => {
    out('timeout')
    process.exit(2)
  }, TIMEOUT_MS)
  const client = mqtt.connect({
    host: '127.0.0.1',
    port,
    protocolVersion: 5,
    clientId: 'mqttjs-peer-' + process.pid,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 10000
  })
  const finish = (code) => {
    if (finished) return
    finished = true
    clearTimeout(timer)
    out('done')
    client.end(false, {}, () => process.exit(code))
    setTimeout(() => process.exit(code), 2000) // should end() never call back
  }
  const die = (text) => {
    if (finished) return // e.g. ECONNRESET while closing: everything was printed already
    out('error=' + String(text).replace(/\n/g, ' '))
    process.exit(1)
  }
  client.on('error', (e) => die(e && e.message ? e.message : e))
  client.on('close', () => {
    if (!finished) die('connection closed')
  })

  if (mode === 'pub') {
    client.on('connect', () => {
      client.publish(topic, JS_PAYLOAD, { qos: 1, retain: true, properties: JS_PROPERTIES },
        (err, packet) => {
          if (err) return die('publish: ' + err.message)
          out('puback')
          finish(0)
        })
    })
    return
  }

  const count = Number(countArg)
  const subId = Number(subIdArg)
  if (!(count > 0) || !(subId > 0)) die('sub needs <count> and <subscription id>')
  let received = 0
  client.on('message', (t, payload, packet) => {
    printMessage(t, payload, packet)
    // let MQTT.js send the PUBACK (after this handler) before disconnecting
    if (++received === count) setTimeout(() => finish(0), 50)
  })
  client.on('connect', () => {
    client.subscribe(topic,
      { qos: 1, nl: true, rap: true, rh: 2, properties: { subscriptionIdentifier: subId } },
      (err, granted) => {
        if (err) return die('subscribe: ' + err.message)
        out('granted=' + granted[0].qos)
        out('ready')
      })
  })
}

main()
