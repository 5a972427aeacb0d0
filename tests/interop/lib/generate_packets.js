// Random valid MQTT 5 packets of all 15 types, in the mqtt5 tool's JSON model (mqtt-packet's
// object model with binary fields as lowercase hex strings). Every object is canonical: no empty
// `properties`, repeatable properties as a scalar when they occur once and an array otherwise.
'use strict'

const constants = require('mqtt-packet/constants')
const { utf8String, topicName, topicFilter } = require('./strings')

const codesOf = (table) => Object.keys(table).map(Number)

// Reason codes defined per packet type. mqtt-packet lists all but CONNACK's (MQTT 5 3.2.2.2).
const REASON_CODES = {
  connack: [0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90,
    0x95, 0x97, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f],
  puback: codesOf(constants.MQTT5_PUBACK_PUBREC_CODES),
  pubrec: codesOf(constants.MQTT5_PUBACK_PUBREC_CODES),
  pubrel: codesOf(constants.MQTT5_PUBREL_PUBCOMP_CODES),
  pubcomp: codesOf(constants.MQTT5_PUBREL_PUBCOMP_CODES),
  suback: codesOf(constants.MQTT5_SUBACK_CODES),
  unsuback: codesOf(constants.MQTT5_UNSUBACK_CODES),
  disconnect: codesOf(constants.MQTT5_DISCONNECT_CODES),
  auth: codesOf(constants.MQTT5_AUTH_CODES)
}

// Properties allowed per packet type (MQTT 5 table 2-4); "will" is the will properties block.
const ACK_PROPS = ['reasonString', 'userProperties']
const ALLOWED_PROPS = {
  connect: ['sessionExpiryInterval', 'receiveMaximum', 'maximumPacketSize', 'topicAliasMaximum',
    'requestResponseInformation', 'requestProblemInformation', 'userProperties',
    'authenticationMethod', 'authenticationData'],
  will: ['willDelayInterval', 'payloadFormatIndicator', 'messageExpiryInterval', 'contentType',
    'responseTopic', 'correlationData', 'userProperties'],
  connack: ['sessionExpiryInterval', 'receiveMaximum', 'maximumQoS', 'retainAvailable',
    'maximumPacketSize', 'assignedClientIdentifier', 'topicAliasMaximum', 'reasonString',
    'userProperties', 'wildcardSubscriptionAvailable', 'subscriptionIdentifiersAvailable',
    'sharedSubscriptionAvailable', 'serverKeepAlive', 'responseInformation', 'serverReference',
    'authenticationMethod', 'authenticationData'],
  publish: ['payloadFormatIndicator', 'messageExpiryInterval', 'topicAlias', 'responseTopic',
    'correlationData', 'userProperties', 'subscriptionIdentifier', 'contentType'],
  puback: ACK_PROPS,
  pubrec: ACK_PROPS,
  pubrel: ACK_PROPS,
  pubcomp: ACK_PROPS,
  subscribe: ['subscriptionIdentifier', 'userProperties'],
  suback: ACK_PROPS,
  unsubscribe: ['userProperties'],
  unsuback: ACK_PROPS,
  disconnect: ['sessionExpiryInterval', 'reasonString', 'userProperties', 'serverReference'],
  auth: ['authenticationMethod', 'authenticationData', 'reasonString', 'userProperties']
}

const U32_EDGES = [0, 1, 127, 128, 65535, 65536, 0x7fffffff, 0xffffffff]
const U16_EDGES = [0, 1, 255, 256, 65535]
const VBI_EDGES = [1, 127, 128, 16383, 16384, 2097151, 2097152, 268435455]

function u32 (rng, min = 0) {
  const v = rng.bool(0.5) ? rng.pick(U32_EDGES) : rng.int(0, 0xffffffff)
  return Math.max(v, min)
}
function u16 (rng, min = 0) {
  const v = rng.bool(0.5) ? rng.pick(U16_EDGES) : rng.int(0, 65535)
  return Math.max(v, min)
}
function vbi (rng) {
  return rng.bool(0.6) ? rng.pick(VBI_EDGES) : rng.int(1, 268435455)
}
function binaryHex (rng, maxLen = 40) {
  const r = rng.next()
  const n = r < 0.15 ? 0 : r < 0.95 ? rng.int(1, maxLen) : rng.int(200, 1000)
  return rng.bytes(n).toString('hex')
}
function packetId (rng) {
  const r = rng.next()
  return r < 0.1 ? 1 : r < 0.2 ? 65535 : rng.int(1, 65535)
}

const USER_PROPERTY_NAMES = ['a', 'key', 'ключ', '鍵', '\u{1f511}', '', 'x-trace', 'dup']

function userProperties (rng) {
  const n = rng.pick([1, 1, 2, 3, 5, 8])
  const obj = {}
  for (let i = 0; i < n; i++) {
    const name = rng.bool(0.6) ? rng.pick(USER_PROPERTY_NAMES) : utf8String(rng, 10)
    if (name === '__proto__') continue
    const value = utf8String(rng, 12)
    if (!Object.prototype.hasOwnProperty.call(obj, name)) obj[name] = value
    else if (Array.isArray(obj[name])) obj[name].push(value)
    else obj[name] = [obj[name], value]
  }
  return obj
}

// One random value per property name.
const PROPERTY_VALUE = {
  payloadFormatIndicator: (rng) => rng.bool(),
  messageExpiryInterval: (rng) => u32(rng),
  contentType: (rng) => utf8String(rng, 16),
  responseTopic: (rng) => topicName(rng),
  correlationData: (rng) => binaryHex(rng),
  subscriptionIdentifier: (rng) => vbi(rng),
  sessionExpiryInterval: (rng) => u32(rng),
  assignedClientIdentifier: (rng) => utf8String(rng, 23),
  serverKeepAlive: (rng) => u16(rng),
  authenticationMethod: (rng) => utf8String(rng, 16),
  authenticationData: (rng) => binaryHex(rng),
  requestProblemInformation: (rng) => rng.bool(),
  willDelayInterval: (rng) => u32(rng),
  requestResponseInformation: (rng) => rng.bool(),
  responseInformation: (rng) => utf8String(rng, 16),
  serverReference: (rng) => utf8String(rng, 16),
  reasonString: (rng) => utf8String(rng, 20),
  receiveMaximum: (rng) => u16(rng, 1),
  topicAliasMaximum: (rng) => u16(rng),
  topicAlias: (rng) => u16(rng, 1),
  maximumQoS: (rng) => rng.int(0, 1),
  retainAvailable: (rng) => rng.bool(),
  userProperties: userProperties,
  maximumPacketSize: (rng) => u32(rng, 1),
  wildcardSubscriptionAvailable: (rng) => rng.bool(),
  subscriptionIdentifiersAvailable: (rng) => rng.bool(),
  sharedSubscriptionAvailable: (rng) => rng.bool()
}

// Order in which the C encoder writes properties: single-valued by ascending identifier, then
// subscription identifiers, then user properties. Used for half of the packets so that the
// byte-identity count means something; the other half get a shuffled key order.
function canonicalOrder (a, b) {
  const rank = (n) => n === 'userProperties' ? 1000 : n === 'subscriptionIdentifier' ? 999
    : constants.properties[n]
  return rank(a) - rank(b)
}

// A random subset of `allowed` (none, all, or each with p=0.5), plus `forced` names.
// Returns undefined when empty (canonical: no empty properties object).
function properties (rng, allowed, opts = {}) {
  const r = rng.next()
  let names = r < 0.2 ? [] : r < 0.35 ? allowed.slice() : rng.subset(allowed)
  for (const f of opts.forced || []) if (!names.includes(f)) names.push(f)
  if (names.includes('authenticationData') && !names.includes('authenticationMethod')) {
    names.push('authenticationMethod') // authenticationData alone is a protocol error
  }
  if (names.length === 0) return undefined
  names = rng.bool() ? names.sort(canonicalOrder) : rng.shuffle(names)
  const props = {}
  for (const n of names) {
    if (n === 'subscriptionIdentifier' && opts.multiSubId && rng.bool(0.5)) {
      const k = rng.int(2, 4)
      props[n] = Array.from({ length: k }, () => vbi(rng))
    } else {
      props[n] = PROPERTY_VALUE[n](rng)
    }
  }
  return props
}

function withProps (obj, props) {
  if (props !== undefined) obj.properties = props
  return obj
}

function payloadHex (rng) {
  const r = rng.next()
  let n
  if (r < 0.1) n = 0
  else if (r < 0.75) n = rng.int(1, 64)
  else if (r < 0.85) n = rng.int(100, 140) // remaining length around the 1/2-byte VBI border
  else if (r < 0.95) n = rng.int(16330, 16400) // around the 2/3-byte VBI border
  else n = rng.int(16385, 70000)
  return rng.bytes(n).toString('hex')
}

// ---- one generator per packet type; i is the packet's index within its type ----------------
// Each returns { obj, onlyB } where onlyB names the reason when mqtt-packet's generate() refuses
// the (valid) packet, so it is used only in direction B.

function genConnect (rng, i) {
  // 56 flag combinations: no will (clean x username x password) + will (qos x retain x ...).
  const combo = i % 56
  const hasWill = combo >= 8
  const bits = hasWill ? combo - 8 : combo
  const clean = (bits & 1) !== 0
  const hasUser = (bits & 2) !== 0
  const hasPass = (bits & 4) !== 0
  const obj = {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 5,
    clean,
    keepalive: u16(rng),
    clientId: rng.bool(0.15) ? '' : utf8String(rng, 23)
  }
  withProps(obj, properties(rng, ALLOWED_PROPS.connect))
  if (hasWill) {
    const wbits = bits >> 3 // 0..5
    obj.will = {
      topic: topicName(rng),
      payload: i === 8 ? rng.bytes(65535).toString('hex') : binaryHex(rng, 80),
      qos: wbits % 3,
      retain: wbits >= 3
    }
    withProps(obj.will, properties(rng, ALLOWED_PROPS.will))
  }
  if (hasUser) obj.username = utf8String(rng, 20)
  if (hasPass) obj.password = i === 4 || i === 6 ? rng.bytes(65535).toString('hex') : binaryHex(rng)
  let onlyB
  if (hasPass && !hasUser) onlyB = 'mqtt-packet generate() refuses a password without username'
  else if (obj.clientId === '' && !clean) onlyB = 'mqtt-packet generate() refuses an empty clientId with clean=false'
  return { obj, onlyB }
}

function genConnack (rng) {
  const reasonCode = rng.bool(0.4) ? 0 : rng.pick(REASON_CODES.connack)
  const obj = {
    cmd: 'connack',
    sessionPresent: reasonCode === 0 ? rng.bool() : false, // MQTT-3.2.2-6
    reasonCode
  }
  return { obj: withProps(obj, properties(rng, ALLOWED_PROPS.connack)) }
}

function genPublish (rng, i) {
  // 10 valid flag combinations: qos 0 with retain 0/1; qos 1/2 with dup 0/1 and retain 0/1.
  const combo = i % 10
  const qos = combo < 2 ? 0 : combo < 6 ? 1 : 2
  const dup = qos > 0 && ((combo - 2) & 2) !== 0
  const retain = (combo & 1) !== 0
  const aliasOnly = rng.bool(0.1)
  let topic = aliasOnly ? '' : topicName(rng)
  if (i === 1) topic = 'x'.repeat(65535) // the longest string MQTT can carry
  const obj = { cmd: 'publish', topic, payload: '', qos, dup, retain }
  if (qos > 0) obj.messageId = packetId(rng)
  withProps(obj, properties(rng, ALLOWED_PROPS.publish,
    { forced: aliasOnly ? ['topicAlias'] : [], multiSubId: true }))
  // payload last so the key order matches the tool's output; one packet over 2 MB (4-byte VBI)
  obj.payload = i === 0 ? rng.bytes(2100000).toString('hex') : payloadHex(rng)
  return { obj }
}

function genAck (cmd) {
  return (rng) => {
    const obj = {
      cmd,
      messageId: packetId(rng),
      reasonCode: rng.bool(0.35) ? 0 : rng.pick(REASON_CODES[cmd])
    }
    return { obj: withProps(obj, properties(rng, ALLOWED_PROPS[cmd])) }
  }
}

let subscriptionCounter = 0
function genSubscribe (rng) {
  const n = rng.pick([1, 1, 2, 3, 5, 8])
  const subscriptions = []
  for (let k = 0; k < n; k++) {
    const combo = subscriptionCounter++ % 36 // every qos x nl x rap x rh combination
    const nl = (combo & 1) !== 0
    let topic = topicFilter(rng)
    while (nl && topic.startsWith('$share/')) topic = topicFilter(rng) // MQTT-3.8.3-4
    subscriptions.push({
      topic,
      qos: (combo >> 2) % 3,
      nl,
      rap: (combo & 2) !== 0,
      rh: Math.floor(combo / 12)
    })
  }
  const obj = { cmd: 'subscribe', messageId: packetId(rng) }
  withProps(obj, properties(rng, ALLOWED_PROPS.subscribe))
  obj.subscriptions = subscriptions
  return { obj }
}

function genGranted (cmd) {
  return (rng) => {
    const n = rng.pick([1, 1, 2, 3, 6, 12])
    const granted = Array.from({ length: n }, () => rng.pick(REASON_CODES[cmd]))
    const obj = { cmd, messageId: packetId(rng) }
    withProps(obj, properties(rng, ALLOWED_PROPS[cmd]))
    obj.granted = granted
    return { obj }
  }
}

function genUnsubscribe (rng) {
  const n = rng.pick([1, 1, 2, 3, 5, 8])
  const obj = { cmd: 'unsubscribe', messageId: packetId(rng) }
  withProps(obj, properties(rng, ALLOWED_PROPS.unsubscribe))
  obj.unsubscriptions = Array.from({ length: n }, () => topicFilter(rng))
  return { obj }
}

function genEmpty (cmd) {
  return () => ({ obj: { cmd } })
}

function genReasonOnly (cmd) {
  return (rng) => {
    const obj = { cmd, reasonCode: rng.bool(0.35) ? 0 : rng.pick(REASON_CODES[cmd]) }
    return { obj: withProps(obj, properties(rng, ALLOWED_PROPS[cmd])) }
  }
}

const GENERATORS = {
  connect: genConnect,
  connack: genConnack,
  publish: genPublish,
  puback: genAck('puback'),
  pubrec: genAck('pubrec'),
  pubrel: genAck('pubrel'),
  pubcomp: genAck('pubcomp'),
  subscribe: genSubscribe,
  suback: genGranted('suback'),
  unsubscribe: genUnsubscribe,
  unsuback: genGranted('unsuback'),
  pingreq: genEmpty('pingreq'),
  pingresp: genEmpty('pingresp'),
  disconnect: genReasonOnly('disconnect'),
  auth: genReasonOnly('auth')
}

// count packets of every type, grouped by type; each item is { type, index, obj, onlyB }.
function generatePackets (rng, count) {
  subscriptionCounter = 0
  const items = []
  for (const type of Object.keys(GENERATORS)) {
    for (let i = 0; i < count; i++) {
      const { obj, onlyB } = GENERATORS[type](rng, i)
      items.push({ type, index: i, obj, onlyB })
    }
  }
  return items
}

module.exports = { generatePackets, REASON_CODES, ALLOWED_PROPS }
