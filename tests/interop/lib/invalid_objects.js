// Packet objects that break a rule a sender must keep; `mqtt5 encode` must refuse each one with
// the expected error (and, where the brief fixes the vocabulary, the expected field).
'use strict'

const INVALID = 'MQTT5_ERR_INVALID_PACKET'
const UTF8 = 'MQTT5_ERR_INVALID_UTF8'
const TOPIC = 'MQTT5_ERR_INVALID_TOPIC'

const pub = (extra) => Object.assign(
  { cmd: 'publish', topic: 'a', payload: '', qos: 0, dup: false, retain: false }, extra)
const sub = (s, extra) => Object.assign(
  { cmd: 'subscribe', messageId: 1, subscriptions: [Object.assign({ topic: 'a', qos: 0, nl: false, rap: false, rh: 0 }, s)] },
  extra)
const connect = (extra) => Object.assign(
  { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, keepalive: 0, clientId: 'c' }, extra)

// [description, object, expected error, expected field or null when not checked]
const CASES = [
  ['PUBLISH topic with +', pub({ topic: 'a/+' }), TOPIC, 'topic'],
  ['PUBLISH topic #', pub({ topic: '#' }), TOPIC, 'topic'],
  // an empty topic name without alias is a bad topic name for the encoder (decoder: 0x82)
  ['PUBLISH empty topic without topicAlias', pub({ topic: '' }), TOPIC, 'topic'],
  ['PUBLISH QoS 1 with messageId 0', pub({ qos: 1, messageId: 0 }), INVALID, 'messageId'],
  ['PUBLISH QoS 0 with dup', pub({ dup: true }), INVALID, null],
  ['PUBLISH QoS 3', pub({ qos: 3, messageId: 1 }), INVALID, null],
  ['topicAlias 0', pub({ properties: { topicAlias: 0 } }), INVALID, 'properties.topicAlias'],
  ['subscriptionIdentifier 0 in PUBLISH', pub({ properties: { subscriptionIdentifier: 0 } }),
    INVALID, 'properties.subscriptionIdentifier'],
  ['subscriptionIdentifier 268435456', pub({ properties: { subscriptionIdentifier: 268435456 } }),
    INVALID, 'properties.subscriptionIdentifier'],
  // JSON can carry no other invalid UTF-8 than U+0000, which the tool refuses before cJSON
  // (that would cut the string) and so without a field name.
  ['contentType with U+0000', pub({ properties: { contentType: 'a\u0000b' } }), UTF8, null],
  ['topic with U+0000', pub({ topic: 'a\u0000' }), UTF8, null],
  ['contentType of 65536 bytes', pub({ properties: { contentType: 'c'.repeat(65536) } }), UTF8,
    'properties.contentType'],
  ['topic of 65536 bytes', pub({ topic: 't'.repeat(65536) }), UTF8, 'topic'],
  ['will contentType of 65536 bytes',
    connect({ will: { topic: 't', payload: '', qos: 0, retain: false, properties: { contentType: 'c'.repeat(65536) } } }),
    UTF8, 'will.properties.contentType'],
  ['user property name of 65536 bytes',
    { cmd: 'disconnect', reasonCode: 0, properties: { userProperties: { ['n'.repeat(65536)]: 'v' } } },
    UTF8, 'properties.userProperties'],
  ['will QoS 3', connect({ will: { topic: 't', payload: '', qos: 3, retain: false } }), INVALID, null],
  ['receiveMaximum 0 in CONNECT', connect({ properties: { receiveMaximum: 0 } }), INVALID,
    'properties.receiveMaximum'],
  ['maximumPacketSize 0 in CONNECT', connect({ properties: { maximumPacketSize: 0 } }), INVALID,
    'properties.maximumPacketSize'],
  ['authenticationData without authenticationMethod',
    connect({ properties: { authenticationData: '00' } }), INVALID, null],
  ['topicAlias in CONNECT properties', connect({ properties: { topicAlias: 1 } }), INVALID,
    'properties.topicAlias'],
  ['willDelayInterval in CONNECT properties', connect({ properties: { willDelayInterval: 1 } }),
    INVALID, 'properties.willDelayInterval'],
  ['maximumQoS 2 in CONNACK',
    { cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: { maximumQoS: 2 } }, INVALID,
    'properties.maximumQoS'],
  ['CONNACK reason code 0x01', { cmd: 'connack', sessionPresent: false, reasonCode: 1 }, INVALID,
    'reasonCode'],
  ['PUBACK reason code 0x04', { cmd: 'puback', messageId: 1, reasonCode: 4 }, INVALID, 'reasonCode'],
  ['PUBACK messageId 0', { cmd: 'puback', messageId: 0, reasonCode: 0 }, INVALID, 'messageId'],
  ['subscriptionIdentifier in PUBACK',
    { cmd: 'puback', messageId: 1, reasonCode: 0, properties: { subscriptionIdentifier: 1 } }, INVALID,
    'properties.subscriptionIdentifier'],
  ['DISCONNECT reason code 0x18', { cmd: 'disconnect', reasonCode: 0x18 }, INVALID, 'reasonCode'],
  ['AUTH reason code 0x04', { cmd: 'auth', reasonCode: 4 }, INVALID, 'reasonCode'],
  ['SUBSCRIBE filter a#', sub({ topic: 'a#' }), TOPIC, null],
  ['SUBSCRIBE empty filter', sub({ topic: '' }), TOPIC, null],
  ['SUBSCRIBE QoS 3', sub({ qos: 3 }), INVALID, null],
  ['SUBSCRIBE retain handling 3', sub({ rh: 3 }), INVALID, null],
  ['no_local on a $share filter', sub({ topic: '$share/g/a', nl: true }), INVALID, null],
  ['two subscriptionIdentifiers in SUBSCRIBE', sub({}, { properties: { subscriptionIdentifier: [1, 2] } }),
    INVALID, null],
  ['SUBSCRIBE without subscriptions', { cmd: 'subscribe', messageId: 1, subscriptions: [] }, INVALID, null],
  ['UNSUBSCRIBE without filters', { cmd: 'unsubscribe', messageId: 1, unsubscriptions: [] }, INVALID, null],
  ['UNSUBSCRIBE filter a/#/b', { cmd: 'unsubscribe', messageId: 1, unsubscriptions: ['a/#/b'] }, TOPIC, null],
  ['SUBACK without reason codes', { cmd: 'suback', messageId: 1, granted: [] }, INVALID, null],
  ['SUBACK reason code 0x03', { cmd: 'suback', messageId: 1, granted: [3] }, INVALID, null],
  ['UNSUBACK reason code 0x02', { cmd: 'unsuback', messageId: 1, granted: [2] }, INVALID, null]
]

function invalidObjects () {
  return CASES.map(([desc, obj, error, field]) => ({ desc, obj, error, field }))
}

module.exports = { invalidObjects }
