// Hand-made malformed packets, one or more per rule of the codec's decode error policy, each
// with the reason code (and, where the policy pins it down, the offset) the decoder must report.
'use strict'

const MALFORMED = 0x81
const PROTOCOL = 0x82
const UNSUPPORTED = 0x84
const ALIAS = 0x94
const TOO_LARGE = 0x95

const ERROR_NAME = {
  [MALFORMED]: 'MQTT5_ERR_MALFORMED_PACKET',
  [PROTOCOL]: 'MQTT5_ERR_PROTOCOL_ERROR',
  [UNSUPPORTED]: 'MQTT5_ERR_UNSUPPORTED_PROTOCOL_VERSION',
  [ALIAS]: 'MQTT5_ERR_TOPIC_ALIAS_INVALID',
  [TOO_LARGE]: 'MQTT5_ERR_PACKET_TOO_LARGE'
}

// Remaining length as a minimal variable byte integer.
function vbi (n) {
  const out = []
  do {
    let b = n % 128
    n = Math.floor(n / 128)
    if (n > 0) b |= 0x80
    out.push(b)
  } while (n > 0)
  return Buffer.from(out).toString('hex')
}

// Fixed header byte + body parts (hex) -> whole packet hex with the right remaining length.
function pkt (first, ...parts) {
  const body = parts.join('')
  return first + vbi(body.length / 2) + body
}

// MQTT string: 2-byte length + UTF-8 bytes.
function str (s) {
  const b = Buffer.from(s, 'utf8')
  return b.length.toString(16).padStart(4, '0') + b.toString('hex')
}

// CONNECT "MQTT" level 5, keep alive 60. Offsets: name 2, level 8, flags 9, properties 12.
function connect (flags, props = '00', rest = '0000', level = '05', name = 'MQTT') {
  return pkt('10', str(name), level, flags, '003c', props, rest)
}

// [description, hex, expected reason code, expected offset or null when not pinned down,
//  optional --max-packet-size for the decoder]
const CASES = [
  // ---- Malformed Packet 0x81: variable byte integers
  ['remaining length VBI of 5 bytes', '30ffffffff7f', MALFORMED, 1],
  ['remaining length VBI not minimal (0x80 0x00)', 'c08000', MALFORMED, 1],
  ['property length VBI not minimal', pkt('40', '0001', '00', '8000'), MALFORMED, 5],
  ['subscription identifier VBI not minimal', pkt('30', str('a'), '03', '0b8100'), MALFORMED, 7],
  ['subscription identifier VBI of 5 bytes', pkt('30', str('a'), '06', '0bffffffff7f'), MALFORMED, 7],
  // lengths running past the end
  ['topic length past the end of the packet', '3003' + '0005' + '61', MALFORMED, 2],
  ['property length past the end of the packet', pkt('40', '0001', '00', '05'), MALFORMED, 5],
  ['contentType past the end of the property block (payload follows)',
    pkt('30', str('a'), '04', '03000561', '6262626262626262'), MALFORMED, 7],
  ['password length past the end of the packet',
    connect('c2', '00', '0000' + str('u') + '0005aa'), MALFORMED, 18],
  // leftover bytes
  ['PINGREQ with a byte left over', 'c00100', MALFORMED, 2],
  ['CONNACK with a byte after its properties', pkt('20', '00', '00', '00', 'ff'), MALFORMED, 5],
  ['PUBACK with a byte after its properties', pkt('40', '0001', '00', '00', 'ff'), MALFORMED, 6],
  // UTF-8
  ['ill-formed UTF-8 in topic (c3 28)', pkt('30', '0002c328', '00'), MALFORMED, 2],
  ['overlong UTF-8 in topic (c0 80)', pkt('30', '0002c080', '00'), MALFORMED, 2],
  ['overlong 3-byte UTF-8 in topic (e0 80 af)', pkt('30', '0003e080af', '00'), MALFORMED, 2],
  ['surrogate U+D800 in topic', pkt('30', '0003eda080', '00'), MALFORMED, 2],
  ['U+0000 in topic', pkt('30', '00026100', '00'), MALFORMED, 2],
  ['code point above U+10FFFF in topic', pkt('30', '0004f4908080', '00'), MALFORMED, 2],
  ['truncated UTF-8 in a user property name',
    pkt('40', '0001', '00', '06', '26', '0001e2', '0000'), MALFORMED, 7],
  // reserved fixed-header flags
  ['PUBREL with flags 0x0', pkt('60', '0001'), MALFORMED, 0],
  ['SUBSCRIBE with flags 0x0', pkt('80', '0001', '00', str('a'), '00'), MALFORMED, 0],
  ['UNSUBSCRIBE with flags 0x3', pkt('a3', '0001', '00', str('a')), MALFORMED, 0],
  ['PUBACK with flags 0x1', pkt('41', '0001'), MALFORMED, 0],
  ['PINGREQ with flags 0x8', 'c800', MALFORMED, 0],
  ['CONNECT with flags 0x2', connect('02').replace(/^10/, '12'), MALFORMED, 0],
  // PUBLISH header and topic
  ['PUBLISH QoS 3', pkt('36', str('a'), '0001', '00'), MALFORMED, 0],
  ['PUBLISH QoS 0 with DUP', pkt('38', str('a'), '00'), MALFORMED, 0],
  ['PUBLISH topic with +', pkt('30', str('a/+'), '00'), MALFORMED, 2],
  ['PUBLISH topic #', pkt('32', str('#'), '0001', '00'), MALFORMED, 2],
  // properties
  ['unknown property 0x05', pkt('40', '0001', '00', '01', '05'), MALFORMED, 6],
  ['topicAlias in PUBACK', pkt('40', '0001', '00', '03', '230001'), MALFORMED, 6],
  ['willDelayInterval in CONNECT properties', connect('02', '05' + '1800000000'), MALFORMED, 13],
  ['subscriptionIdentifier in CONNACK', pkt('20', '00', '00', '02', '0b01'), MALFORMED, 5],
  ['topicAlias in will properties',
    connect('06', '00', '0000' + '03230001' + str('t') + '0000'), MALFORMED, 16],
  // CONNECT flags
  ['CONNECT reserved flag bit 0', connect('03'), MALFORMED, 9],
  ['will QoS 3', connect('1e', '00', '0000' + '00' + str('t') + '0000'), MALFORMED, 9],
  ['will QoS 1 without will flag', connect('0a'), MALFORMED, 9],
  ['will retain without will flag', connect('22'), MALFORMED, 9],
  // CONNACK / SUBSCRIBE
  ['CONNACK acknowledge flags bit 1', pkt('20', '02', '00', '00'), MALFORMED, 2],
  ['SUBSCRIBE options bit 6', pkt('82', '0001', '00', str('a'), '40'), MALFORMED, 8],
  ['subscription QoS 3', pkt('82', '0001', '00', str('a'), '03'), MALFORMED, 8],
  ['retain handling 3', pkt('82', '0001', '00', str('a'), '30'), MALFORMED, 8],
  ['topic filter a# in SUBSCRIBE', pkt('82', '0001', '00', str('a#'), '00'), MALFORMED, 5],
  ['topic filter a/#/b in UNSUBSCRIBE', pkt('a2', '0001', '00', str('a/#/b')), MALFORMED, 5],
  ['topic filter a+ in UNSUBSCRIBE', pkt('a2', '0001', '00', str('a+')), MALFORMED, 5],
  ['empty topic filter in SUBSCRIBE', pkt('82', '0001', '00', '0000', '00'), MALFORMED, 5],
  ['shared filter with empty share name', pkt('82', '0001', '00', str('$share//a'), '00'), MALFORMED, 5],
  ['shared filter without filter part', pkt('82', '0001', '00', str('$share/g'), '00'), MALFORMED, 5],
  ['shared filter with wildcard in share name', pkt('a2', '0001', '00', str('$share/g+/a')), MALFORMED, 5],

  // ---- Protocol Error 0x82
  ['reasonString twice in PUBACK', pkt('40', '0001', '00', '08', '1f000161', '1f000162'), PROTOCOL, 10],
  ['topicAlias twice in PUBLISH', pkt('30', str('a'), '06', '230001', '230002'), PROTOCOL, 9],
  ['subscriptionIdentifier twice in SUBSCRIBE',
    pkt('82', '0001', '04', '0b01', '0b02', str('a'), '00'), PROTOCOL, 7],
  ['payloadFormatIndicator 2', pkt('30', str('a'), '02', '0102'), PROTOCOL, 6],
  ['maximumQoS 2 in CONNACK', pkt('20', '00', '00', '02', '2402'), PROTOCOL, 5],
  ['retainAvailable 2 in CONNACK', pkt('20', '00', '00', '02', '2502'), PROTOCOL, 5],
  ['sharedSubscriptionAvailable 255 in CONNACK', pkt('20', '00', '00', '02', '2aff'), PROTOCOL, 5],
  ['requestProblemInformation 5 in CONNECT', connect('02', '02' + '1705'), PROTOCOL, 13],
  ['requestResponseInformation 2 in CONNECT', connect('02', '02' + '1902'), PROTOCOL, 13],
  ['receiveMaximum 0 in CONNACK', pkt('20', '00', '00', '03', '210000'), PROTOCOL, 5],
  ['maximumPacketSize 0 in CONNECT', connect('02', '05' + '2700000000'), PROTOCOL, 13],
  ['subscriptionIdentifier 0 in PUBLISH', pkt('30', str('a'), '02', '0b00'), PROTOCOL, 6],
  ['packet id 0 in PUBACK', pkt('40', '0000'), PROTOCOL, 2],
  ['packet id 0 in PUBLISH QoS 1', pkt('32', str('a'), '0000', '00'), PROTOCOL, 5],
  ['packet id 0 in SUBSCRIBE', pkt('82', '0000', '00', str('a'), '00'), PROTOCOL, 2],
  ['packet id 0 in UNSUBACK', pkt('b0', '0000', '00', '00'), PROTOCOL, 2],
  ['SUBSCRIBE without subscriptions', pkt('82', '0001', '00'), PROTOCOL, null],
  ['UNSUBSCRIBE without topic filters', pkt('a2', '0001', '00'), PROTOCOL, null],
  ['SUBACK without reason codes', pkt('90', '0001', '00'), PROTOCOL, null],
  ['UNSUBACK without reason codes', pkt('b0', '0001', '00'), PROTOCOL, null],
  ['CONNACK reason code 0x01', pkt('20', '00', '01', '00'), PROTOCOL, 3],
  ['PUBACK reason code 0x04', pkt('40', '0001', '04'), PROTOCOL, 4],
  ['PUBREL reason code 0x10 (PUBACK-only)', pkt('62', '0001', '10'), PROTOCOL, 4],
  ['SUBACK reason code 0x03', pkt('90', '0001', '00', '03'), PROTOCOL, 5],
  ['UNSUBACK reason code 0x02', pkt('b0', '0001', '00', '00', '02'), PROTOCOL, 6],
  ['DISCONNECT reason code 0x18', pkt('e0', '18'), PROTOCOL, 2],
  ['AUTH reason code 0x04', pkt('f0', '04', '00'), PROTOCOL, 2],
  ['PUBLISH empty topic without topicAlias', pkt('30', '0000', '00'), PROTOCOL, null],
  ['no_local on a $share filter', pkt('82', '0001', '00', str('$share/g/a'), '04'), PROTOCOL, 17],
  ['authenticationData without authenticationMethod in AUTH',
    pkt('f0', '18', '03', '160000'), PROTOCOL, null],

  // ---- Topic Alias invalid 0x94
  ['topicAlias 0 in PUBLISH', pkt('30', str('a'), '03', '230000'), ALIAS, 6],

  // ---- Unsupported Protocol Version 0x84
  ['CONNECT protocol level 4', connect('02', '', '0000', '04'), UNSUPPORTED, 8],
  ['CONNECT protocol name MQIsdp level 3', connect('02', '', '0000', '03', 'MQIsdp'), UNSUPPORTED, 2],
  ['CONNECT protocol name MQTX', connect('02', '00', '0000', '05', 'MQTX'), UNSUPPORTED, 2],

  // ---- Packet too large 0x95 (decoded with --max-packet-size)
  ['PUBACK of 4 bytes with a limit of 3', pkt('40', '0001'), TOO_LARGE, null, 3],
  ['fixed header alone announcing 2 MiB with a limit of 1 MiB', '3080808001', TOO_LARGE, null, 1048576]
]

function malformedCases () {
  return CASES.map(([desc, hex, reasonCode, offset, maxPacketSize]) => ({
    desc, hex, reasonCode, offset, maxPacketSize: maxPacketSize || 0, error: ERROR_NAME[reasonCode]
  }))
}

module.exports = { malformedCases }
