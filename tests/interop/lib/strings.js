// Random MQTT UTF-8 strings, topic names and topic filters for the differential test.
// Strings mix 1-, 2-, 3- and 4-byte UTF-8 sequences, the BOM U+FEFF and, rarely, code points
// the specification only discourages (controls, non-characters); never U+0000 or surrogates.
'use strict'

// Code points that are legal in MQTT UTF-8 strings but that the specification says a sender
// SHOULD NOT use (MQTT 5 section 1.5.4); the codec's policy accepts them.
const DISCOURAGED = [0x01, 0x1f, 0x7f, 0x80, 0x9f, 0xfdd0, 0xfffe, 0xffff, 0x1fffe, 0x10ffff]

function randomCodePoint (rng) {
  const r = rng.next()
  if (r < 0.55) return rng.int(0x20, 0x7e) // 1 byte
  if (r < 0.70) return rng.int(0xa0, 0x7ff) // 2 bytes
  if (r < 0.85) { // 3 bytes, skipping surrogates and the U+FDD0..U+FDEF non-characters
    let cp = rng.int(0x800, 0xfffd - 0x800 - 0x20)
    if (cp >= 0xd800) cp += 0x800
    if (cp >= 0xfdd0) cp += 0x20
    return cp
  }
  if (r < 0.97) { // 4 bytes, skipping the U+xFFFE/U+xFFFF non-characters
    const cp = rng.int(0x10000, 0x10ffff)
    return (cp & 0xfffe) === 0xfffe ? cp - 2 : cp
  }
  if (r < 0.99) return 0xfeff // BOM inside a string
  return rng.pick(DISCOURAGED)
}

// A string of up to maxChars code points, none of them in `exclude` (a string of ASCII chars).
function utf8String (rng, maxChars = 12, exclude = '') {
  const r = rng.next()
  let n
  if (r < 0.12) n = 0
  else if (r < 0.97) n = rng.int(1, maxChars)
  else n = rng.int(100, 400)
  let s = rng.bool(0.03) ? '\ufeff' : '' // a leading BOM must not be stripped
  for (let i = 0; i < n; i++) {
    let cp = randomCodePoint(rng)
    while (exclude.includes(String.fromCodePoint(cp))) cp = rng.int(0x61, 0x7a)
    s += String.fromCodePoint(cp)
  }
  return s
}

function nonEmpty (rng, maxChars, exclude) {
  const s = utf8String(rng, maxChars, exclude)
  return s === '' ? 'z' : s
}

// A valid topic name (PUBLISH, will, response topic): non-empty, no wildcards.
function topicName (rng) {
  const r = rng.next()
  if (r < 0.03) return '/'
  if (r < 0.06) return '$SYS/broker/load'
  if (r < 0.09) return 'a//b'
  if (r < 0.12) return '/leading/slash'
  const levels = rng.int(1, 4)
  const parts = []
  for (let i = 0; i < levels; i++) parts.push(utf8String(rng, 8, '/+#'))
  const t = parts.join('/')
  return t === '' ? 't' : t
}

// A valid topic filter; shared subscriptions when `allowShared`.
function topicFilter (rng, allowShared = true) {
  if (allowShared && rng.bool(0.15)) {
    return '$share/' + nonEmpty(rng, 6, '/+#') + '/' + topicFilter(rng, false)
  }
  const r = rng.next()
  if (r < 0.06) return '#'
  if (r < 0.10) return '+'
  if (r < 0.12) return '+/+/#'
  if (r < 0.14) return '$SYS/#'
  const levels = rng.int(1, 4)
  const parts = []
  for (let i = 0; i < levels; i++) parts.push(rng.bool(0.2) ? '+' : utf8String(rng, 8, '/+#'))
  if (rng.bool(0.2)) parts.push('#')
  const f = parts.join('/')
  return f === '' ? 'f' : f
}

module.exports = { utf8String, topicName, topicFilter }
