// Conversions between the mqtt5 tool's JSON model and mqtt-packet's objects, the single
// normalize() that absorbs mqtt-packet's documented quirks, and the field-by-field comparison.
'use strict'

const mqtt = require('mqtt-packet')

const BINARY_PROPS = ['correlationData', 'authenticationData']

const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k)

function clone (x) { return JSON.parse(JSON.stringify(x)) }

// Tool JSON model -> object for mqtt-packet's generate(): hex strings become Buffers.
function toMqttPacket (obj) {
  const p = clone(obj)
  const props = (o) => {
    if (!o || !o.properties) return
    for (const b of BINARY_PROPS) {
      if (typeof o.properties[b] === 'string') o.properties[b] = Buffer.from(o.properties[b], 'hex')
    }
  }
  if (typeof p.payload === 'string') p.payload = Buffer.from(p.payload, 'hex')
  if (typeof p.password === 'string') p.password = Buffer.from(p.password, 'hex')
  if (p.will) {
    p.will.payload = Buffer.from(p.will.payload, 'hex')
    props(p.will)
  }
  props(p)
  return p
}

function generateWithMqttPacket (obj) {
  return mqtt.generate(toMqttPacket(obj), { protocolVersion: 5 })
}

// Parse one packet with a fresh mqtt-packet parser (a fresh one each time: its DISCONNECT
// parsing looks at the whole input buffer and a CONNECT replaces its settings).
function parseWithMqttPacket (buf) {
  const parser = mqtt.parser({ protocolVersion: 5 })
  const packets = []
  let error = null
  parser.on('packet', (p) => packets.push(p))
  parser.on('error', (e) => { if (!error) error = e })
  const left = parser.parse(buf)
  if (!error && packets.length !== 1) error = new Error(`parsed ${packets.length} packets`)
  if (!error && left !== 0) error = new Error(`${left} bytes left over`)
  return { packet: packets[0], error }
}

/*
 * Byte-level quirk of mqtt-packet's parser, applied only to what it is given to parse:
 *   Q5. AUTH with Remaining Length 0 (reason 0x00, no properties; allowed by MQTT 5 3.15.2.1)
 *       is rejected by mqtt-packet ("Invalid auth reason code": it reads a reason byte that is
 *       not there). Exactly "f000" is handed to it in its long form "f0020000" instead.
 */
function adaptForMqttPacketParser (hex) {
  return hex === 'f000' ? 'f0020000' : hex
}

/*
 * normalize(packet, source, target): the ONE place where mqtt-packet's quirks are absorbed.
 *   source 'mqtt-packet': an object produced by mqtt-packet's parser;
 *   source 'expected': an object from our generator (already canonical);
 *   source 'tool': output of `mqtt5 decode` - returned as is (compared strictly).
 *   target: who produced the object `packet` will be compared with.
 * Quirks handled (all are mqtt-packet behaviour, none is accepted from the tool):
 *   Q1. Its Packet class gives every packet `length`, and `topic: null`, `payload: null`, `qos`,
 *       `dup`, `retain` (decoded from the fixed header flags, e.g. qos 1 for PUBREL/SUBSCRIBE);
 *       `length` is dropped everywhere, the other five on every type but PUBLISH.
 *   Q2. Binary fields (payload, password, will.payload, correlationData, authenticationData)
 *       are Buffers: converted to lowercase hex.
 *   Q3. userProperties is a null-prototype object: rebuilt as a plain object.
 *   Q4. Its parser groups repeated user properties with a truthiness test, so when the stored
 *       value for a name is '' the next value of that name REPLACES it instead of being appended
 *       (wire a='' a='x' parses as {a:'x'}). The expected object is put through the same
 *       grouping when the other side is mqtt-packet's parser.
 */
function normalize (packet, source, target) {
  if (source === 'tool') return packet
  const p = clone(packet === undefined ? null : toPlain(packet))
  if (p === null) return p
  if (source === 'mqtt-packet') {
    delete p.length // Q1
    if (p.cmd !== 'publish') {
      for (const k of ['topic', 'payload', 'qos', 'dup', 'retain']) delete p[k]
    }
  } else if (source === 'expected' && target === 'mqtt-packet') {
    if (p.properties) mqttPacketUserPropertyGrouping(p.properties) // Q4
    if (p.will && p.will.properties) mqttPacketUserPropertyGrouping(p.will.properties)
  }
  return p
}

// Q2 + Q3: Buffers to hex, null-prototype objects to plain objects (deep).
function toPlain (x) {
  if (Buffer.isBuffer(x)) return x.toString('hex')
  if (Array.isArray(x)) return x.map(toPlain)
  if (x !== null && typeof x === 'object') {
    const o = {}
    for (const k of Object.keys(x)) o[k] = toPlain(x[k])
    return o
  }
  return x
}

// Q4: what mqtt-packet's parser makes of the values of each user property name, in wire order.
function mqttPacketUserPropertyGrouping (props) {
  const up = props.userProperties
  if (!up) return
  for (const name of Object.keys(up)) {
    if (!Array.isArray(up[name])) continue
    let stored
    for (const v of up[name]) {
      if (stored) { // truthy: non-empty string or array
        if (Array.isArray(stored)) stored.push(v)
        else stored = [stored, v]
      } else {
        stored = v
      }
    }
    up[name] = stored
  }
}

// First difference between a and b as { path, expected, actual }, or null when equal.
// Objects are compared by key set (key order is irrelevant), arrays element by element.
function diff (expected, actual, path = '') {
  if (expected === actual) return null
  const te = Array.isArray(expected) ? 'array' : expected === null ? 'null' : typeof expected
  const ta = Array.isArray(actual) ? 'array' : actual === null ? 'null' : typeof actual
  if (te !== ta) return { path: path || '.', expected, actual }
  if (te === 'array') {
    if (expected.length !== actual.length) {
      return { path: `${path}.length`, expected: expected.length, actual: actual.length }
    }
    for (let i = 0; i < expected.length; i++) {
      const d = diff(expected[i], actual[i], `${path}[${i}]`)
      if (d) return d
    }
    return null
  }
  if (te === 'object') {
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)])
    for (const k of [...keys].sort()) {
      const sub = path ? `${path}.${k}` : k
      if (!has(expected, k)) return { path: sub, expected: '(absent)', actual: actual[k] }
      if (!has(actual, k)) return { path: sub, expected: expected[k], actual: '(absent)' }
      const d = diff(expected[k], actual[k], sub)
      if (d) return d
    }
    return null
  }
  return { path: path || '.', expected, actual }
}

module.exports = {
  toMqttPacket,
  generateWithMqttPacket,
  parseWithMqttPacket,
  adaptForMqttPacketParser,
  normalize,
  diff
}
