// Seeded pseudo-random number generator for the differential test: every packet the test
// generates is a pure function of the seed, so a failure is reproduced with --seed N.
'use strict'

// mulberry32: small, fast, good enough for test data (not for anything secret).
function makeRng (seed) {
  let state = seed >>> 0
  function next () {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const rng = {
    next,
    // integer in [lo, hi], both inclusive
    int (lo, hi) { return lo + Math.floor(next() * (hi - lo + 1)) },
    bool (p = 0.5) { return next() < p },
    pick (arr) { return arr[Math.floor(next() * arr.length)] },
    // random subset of arr, each element kept with probability p, order kept
    subset (arr, p = 0.5) { return arr.filter(() => next() < p) },
    shuffle (arr) {
      const a = arr.slice()
      for (let i = a.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1))
        const tmp = a[i]
        a[i] = a[j]
        a[j] = tmp
      }
      return a
    },
    bytes (n) {
      const b = Buffer.allocUnsafe(n)
      for (let i = 0; i < n; i++) b[i] = (next() * 256) | 0
      return b
    }
  }
  return rng
}

module.exports = { makeRng }
