// Differential test of the mqtt5 C codec (through the `mqtt5` tool) against the npm package
// mqtt-packet 9.0.2:
//   A: mqtt-packet generate() -> `mqtt5 decode --hex-lines` -> compare with the original object
//   B: original object -> `mqtt5 encode --hex` -> mqtt-packet parser -> compare
//   R: `mqtt5 encode --hex` output -> `mqtt5 decode --hex-lines` -> compare (our round trip)
//   N: hand-made malformed packets that `mqtt5 decode` must reject with the right reason code.
//   E: invalid packet objects that `mqtt5 encode` must refuse with the right error and field.
// Usage: node test_differential.js --tool PATH [--count N] [--seed S|random] [--self-test]
// (--self-test runs only mqtt-packet's own generate -> parse round trip, no tool needed.)
'use strict'

const { spawnSync } = require('child_process')
const crypto = require('crypto')
const { makeRng } = require('./lib/prng')
const { generatePackets } = require('./lib/generate_packets')
const {
  generateWithMqttPacket, parseWithMqttPacket, adaptForMqttPacketParser, normalize, diff
} = require('./lib/model')
const { malformedCases } = require('./lib/malformed')
const { invalidObjects } = require('./lib/invalid_objects')

const DEFAULT_SEED = 20250501
const DEFAULT_COUNT = 3000
const MAX_REPORTED = 10

function parseArgs (argv) {
  const args = { tool: null, count: DEFAULT_COUNT, seed: DEFAULT_SEED, selfTest: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`)
      return argv[++i]
    }
    if (a === '--tool') args.tool = value()
    else if (a === '--count') args.count = Number(value())
    else if (a === '--seed') {
      const v = value()
      args.seed = v === 'random' ? crypto.randomBytes(4).readUInt32BE(0) : Number(v)
    } else if (a === '--self-test') args.selfTest = true
    else usage(`unknown argument ${a}`)
  }
  if (!Number.isInteger(args.count) || args.count < 1) usage('--count must be a positive integer')
  if (!Number.isInteger(args.seed) || args.seed < 0) usage('--seed must be a non-negative integer or "random"')
  if (!args.tool && !args.selfTest) usage('--tool PATH is required')
  return args
}

function usage (msg) {
  console.error(`error: ${msg}`)
  console.error('usage: node test_differential.js --tool PATH [--count N] [--seed S|random] [--self-test]')
  process.exit(2)
}

// Run the tool once on `lines` (joined with \n); returns its stdout lines.
function runTool (tool, args, lines) {
  const res = spawnSync(tool, args, {
    input: lines.length ? lines.join('\n') + '\n' : '',
    maxBuffer: 1 << 30,
    encoding: 'utf8'
  })
  if (res.error) throw new Error(`cannot run ${tool} ${args.join(' ')}: ${res.error.message}`)
  if (res.status !== 0 && res.status !== 1) {
    throw new Error(`${tool} ${args.join(' ')} exited with status ${res.status} signal ` +
      `${res.signal}\n${res.stderr.slice(0, 4000)}`)
  }
  const out = res.stdout.split('\n')
  if (out[out.length - 1] === '') out.pop()
  if (out.length !== lines.length) {
    throw new Error(`${tool} ${args.join(' ')} printed ${out.length} lines for ${lines.length} ` +
      `inputs\n${res.stderr.slice(0, 4000)}`)
  }
  return { lines: out, status: res.status, stderr: res.stderr }
}

function parseJsonLine (line) {
  try {
    return JSON.parse(line)
  } catch (e) {
    return { error: 'unparsable JSON from the tool', detail: line.slice(0, 200) }
  }
}

function short (x, max = 600) {
  const s = typeof x === 'string' ? x : JSON.stringify(x)
  return s === undefined ? String(s) : s.length > max ? s.slice(0, max) + `... (${s.length} chars)` : s
}

function main () {
  const args = parseArgs(process.argv.slice(2))
  const started = Date.now()
  console.log(`seed ${args.seed} (reproduce with --seed ${args.seed}), ${args.count} packets per type`)
  const items = generatePackets(makeRng(args.seed), args.count)
  const types = [...new Set(items.map((it) => it.type))]
  const perType = {}
  for (const t of types) perType[t] = { total: 0, a: 0, aRun: 0, b: 0, r: 0, same: 0, onlyB: 0 }
  const mismatches = []
  const fail = (dir, it, d, hex) => mismatches.push({ dir, it, d, hex })

  // ---- self-test: mqtt-packet generate -> mqtt-packet parse (checks generator + normalize) ----
  const onlyBReasons = {}
  let selfOk = 0
  for (const it of items) {
    perType[it.type].total++
    if (it.onlyB) {
      perType[it.type].onlyB++
      onlyBReasons[it.onlyB] = (onlyBReasons[it.onlyB] || 0) + 1
      continue
    }
    let buf
    try {
      buf = generateWithMqttPacket(it.obj)
    } catch (e) {
      fail('self', it, { path: '(generate)', expected: 'bytes', actual: e.message })
      continue
    }
    it.mpHex = buf.toString('hex')
    const { packet, error } = parseWithMqttPacket(buf)
    if (error) {
      fail('self', it, { path: '(parse)', expected: 'packet', actual: error.message }, it.mpHex)
      continue
    }
    const d = diff(normalize(it.obj, 'expected', 'mqtt-packet'), normalize(packet, 'mqtt-packet'))
    if (d) fail('self', it, d, it.mpHex)
    else selfOk++
  }
  const selfTotal = items.length - Object.values(onlyBReasons).reduce((a, b) => a + b, 0)
  console.log(`self-test  mqtt-packet generate->parse: ${selfOk}/${selfTotal} equal`)
  for (const [r, n] of Object.entries(onlyBReasons)) console.log(`  direction B only (${n}): ${r}`)
  if (args.selfTest) return finish(mismatches, started)
  if (mismatches.length) return finish(mismatches, started) // generator broken: stop here

  // ---- direction A: mqtt-packet bytes -> mqtt5 decode ----------------------------------------
  const aItems = items.filter((it) => !it.onlyB)
  const aOut = runTool(args.tool, ['decode', '--hex-lines'], aItems.map((it) => it.mpHex)).lines
  aItems.forEach((it, k) => {
    perType[it.type].aRun++
    const got = parseJsonLine(aOut[k])
    const d = diff(normalize(it.obj, 'expected', 'tool'), normalize(got, 'tool'))
    if (d) fail('A', it, d, it.mpHex)
    else perType[it.type].a++
  })

  // ---- direction B: mqtt5 encode -> mqtt-packet parse ----------------------------------------
  const bOut = runTool(args.tool, ['encode', '--hex'], items.map((it) => JSON.stringify(it.obj))).lines
  const rItems = []
  items.forEach((it, k) => {
    const line = bOut[k]
    if (!/^[0-9a-f]+$/.test(line)) {
      fail('B', it, { path: '(encode)', expected: 'hex', actual: parseJsonLine(line) })
      return
    }
    it.toolHex = line
    rItems.push(it)
    if (it.mpHex === line) perType[it.type].same++
    const { packet, error } = parseWithMqttPacket(Buffer.from(adaptForMqttPacketParser(line), 'hex'))
    if (error) {
      fail('B', it, { path: '(mqtt-packet parse)', expected: 'packet', actual: error.message }, line)
      return
    }
    const d = diff(normalize(it.obj, 'expected', 'mqtt-packet'), normalize(packet, 'mqtt-packet'))
    if (d) fail('B', it, d, line)
    else perType[it.type].b++
  })

  // ---- round trip R: mqtt5 encode -> mqtt5 decode (strict, no mqtt-packet quirks involved) ---
  const rOut = runTool(args.tool, ['decode', '--hex-lines'], rItems.map((it) => it.toolHex)).lines
  rItems.forEach((it, k) => {
    const d = diff(normalize(it.obj, 'expected', 'tool'), normalize(parseJsonLine(rOut[k]), 'tool'))
    if (d) fail('R', it, d, it.toolHex)
    else perType[it.type].r++
  })

  // ---- N: malformed packets ------------------------------------------------------------------
  const cases = malformedCases()
  const nOut = []
  for (const max of [...new Set(cases.map((c) => c.maxPacketSize))]) {
    const group = cases.filter((c) => c.maxPacketSize === max)
    const extra = max ? ['--max-packet-size', String(max)] : []
    const out = runTool(args.tool, ['decode', '--hex-lines', ...extra], group.map((c) => c.hex)).lines
    group.forEach((c, k) => { nOut[cases.indexOf(c)] = out[k] })
  }
  let nOk = 0
  let mpRejects = 0
  console.log(`malformed packets (${cases.length}): tool result | mqtt-packet`)
  cases.forEach((c, k) => {
    const got = parseJsonLine(nOut[k])
    const mp = parseWithMqttPacket(Buffer.from(c.hex, 'hex'))
    if (mp.error) mpRejects++
    const problems = []
    if (got.error !== c.error) problems.push(`error ${got.error} != ${c.error}`)
    if (got.reasonCode !== c.reasonCode) {
      problems.push(`reasonCode ${hexByte(got.reasonCode)} != ${hexByte(c.reasonCode)}`)
    }
    if (c.offset !== null && got.offset !== c.offset) problems.push(`offset ${got.offset} != ${c.offset}`)
    if (problems.length === 0) nOk++
    else mismatches.push({ dir: 'N', c, got, problems })
    const mark = problems.length ? 'FAIL ' + problems.join(', ') : 'ok'
    console.log(`  ${mark.padEnd(8)} ${hexByte(got.reasonCode)}@${got.offset} ` +
      `| ${mp.error ? 'rejects' : 'ACCEPTS'} | ${c.desc}: ${short(c.hex, 60)}`)
  })

  // ---- E: invalid objects the encoder must refuse ----------------------------------------------
  const invalid = invalidObjects()
  const eOut = runTool(args.tool, ['encode', '--hex'], invalid.map((c) => JSON.stringify(c.obj))).lines
  let eOk = 0
  console.log(`invalid objects (${invalid.length}): tool error / field`)
  invalid.forEach((c, k) => {
    const got = parseJsonLine(eOut[k])
    const problems = []
    if (got.error !== c.error) problems.push(`error ${got.error} != ${c.error}`)
    if (c.field !== null && got.field !== c.field) problems.push(`field ${got.field} != ${c.field}`)
    if (got.line !== k + 1) problems.push(`line ${got.line} != ${k + 1}`)
    if (problems.length === 0) eOk++
    else mismatches.push({ dir: 'E', c, got, problems })
    const mark = problems.length ? 'FAIL ' + problems.join(', ') : 'ok'
    console.log(`  ${mark.padEnd(8)} ${got.error} ${got.field} | ${c.desc}`)
  })

  // ---- summary -------------------------------------------------------------------------------
  console.log('type          total  A(mp->tool)  B(tool->mp)  R(tool->tool)  identical bytes')
  const sum = { total: 0, a: 0, aRun: 0, b: 0, r: 0, same: 0 }
  for (const t of types) {
    const s = perType[t]
    for (const k of Object.keys(sum)) sum[k] += s[k]
    console.log(`${t.padEnd(12)} ${String(s.total).padStart(6)}  ${`${s.a}/${s.aRun}`.padStart(11)}` +
      `  ${`${s.b}/${s.total}`.padStart(11)}  ${`${s.r}/${s.total}`.padStart(13)}` +
      `  ${`${s.same}/${s.aRun}`.padStart(15)}`)
  }
  console.log(`direction A (mqtt-packet generate -> mqtt5 decode): ${sum.a}/${sum.aRun} equal`)
  console.log(`direction B (mqtt5 encode -> mqtt-packet parse): ${sum.b}/${sum.total} equal`)
  console.log(`round trip R (mqtt5 encode -> mqtt5 decode): ${sum.r}/${sum.total} equal`)
  console.log(`identical bytes from both encoders (information): ${sum.same}/${sum.aRun}`)
  console.log(`malformed set: ${nOk}/${cases.length} rejected as expected; mqtt-packet rejects ` +
    `${mpRejects}/${cases.length} (information)`)
  console.log(`invalid objects: ${eOk}/${invalid.length} refused by mqtt5 encode as expected`)
  return finish(mismatches, started)
}

function hexByte (n) {
  return typeof n === 'number' ? '0x' + n.toString(16).padStart(2, '0') : String(n)
}

function finish (mismatches, started) {
  const secs = ((Date.now() - started) / 1000).toFixed(1)
  if (mismatches.length === 0) {
    console.log(`PASS (${secs} s)`)
    process.exit(0)
  }
  console.log(`${mismatches.length} mismatch(es); the first ${Math.min(MAX_REPORTED, mismatches.length)}:`)
  for (const m of mismatches.slice(0, MAX_REPORTED)) {
    if (m.dir === 'N' || m.dir === 'E') {
      console.log(`[${m.dir}] ${m.c.desc}\n    input:    ${m.c.hex || short(m.c.obj, 300)}` +
        `\n    problems: ${m.problems.join('; ')}\n    tool:     ${short(m.got)}`)
      continue
    }
    console.log(`[${m.dir}] ${m.it.type} #${m.it.index} field ${m.d.path}: expected ` +
      `${short(m.d.expected, 200)}, got ${short(m.d.actual, 200)}`)
    console.log(`    object: ${short(m.it.obj)}`)
    if (m.hex) console.log(`    hex:    ${short(m.hex, 400)}`)
  }
  console.log(`FAIL (${secs} s)`)
  process.exit(1)
}

try {
  main()
} catch (e) {
  console.error(`FAIL: ${e.message}`)
  process.exit(1)
}
