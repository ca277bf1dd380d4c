import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as TokenBucket from "../src/internal/tokenBucket.js"

// What the proxy does for each record: refill, then take one item of `amount` if there is room.
const offer = (bucket: TokenBucket.TokenBucket, now: number, amount: number, rate: number, capacity: number) => {
  TokenBucket.refill(bucket, now, rate, capacity)
  if (!TokenBucket.canTake(bucket, amount, capacity)) return false
  bucket.tokens -= amount
  return true
}

describe("TokenBucket", () => {
  it("never lets through more than its capacity plus what the rate earned over any stretch of time", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2_000 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(
          fc.record({ wait: fc.integer({ min: 0, max: 300 }), amount: fc.integer({ min: 1, max: 50 }) }),
          { maxLength: 300 }
        ),
        (rate, burstSeconds, offers) => {
          const capacity = rate * burstSeconds
          const bucket = TokenBucket.make(capacity, 0)
          let now = 0
          const taken: Array<{ readonly at: number; readonly amount: number }> = []
          for (const offered of offers) {
            now += offered.wait
            // Items no larger than the capacity: the larger ones are lent for, tested below.
            const amount = Math.min(offered.amount, capacity)
            if (offer(bucket, now, amount, rate, capacity)) taken.push({ at: now, amount })
          }
          for (let i = 0; i < taken.length; i++) {
            let sum = 0
            for (let j = i; j < taken.length; j++) {
              sum += taken[j].amount
              expect(sum).toBeLessThanOrEqual(capacity + (rate * (taken[j].at - taken[i].at)) / 1000 + 1e-6)
            }
          }
        }
      )
    )
  })

  it("lends a full bucket one item larger than its capacity, then makes it wait to pay it back", () => {
    const bucket = TokenBucket.make(100, 0)
    expect(offer(bucket, 0, 150, 100, 100)).toBe(true)
    expect(offer(bucket, 0, 1, 100, 100)).toBe(false)
    // 50 owed and 1 wanted: 510 ms at 100 a second.
    expect(offer(bucket, 500, 1, 100, 100)).toBe(false)
    expect(offer(bucket, 510, 1, 100, 100)).toBe(true)
    expect(offer(bucket, 510, 150, 100, 100)).toBe(false)
  })

  it("keeps at most its capacity however long it waits, and does not lose tokens when the clock steps back", () => {
    const bucket = TokenBucket.make(10, 0)
    TokenBucket.refill(bucket, 60_000, 10, 10)
    expect(bucket.tokens).toBe(10)
    bucket.tokens = 5
    TokenBucket.refill(bucket, 1_000, 10, 10)
    expect(bucket.tokens).toBe(5)
    TokenBucket.refill(bucket, 60_100, 10, 10)
    expect(bucket.tokens).toBe(6)
  })
})
