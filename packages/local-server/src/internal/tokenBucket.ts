/**
 * A token bucket: `rate` tokens per second, holding at most `capacity`. Pure: time is passed in.
 */

/** A bucket's state at a moment. */
export interface TokenBucket {
  tokens: number
  updatedAt: number
}

/** A full bucket at `now` (milliseconds). */
export const make = (capacity: number, now: number): TokenBucket => ({ tokens: capacity, updatedAt: now })

/** Adds what `rate` tokens per second earned since the last update, up to `capacity`. */
export const refill = (bucket: TokenBucket, now: number, rate: number, capacity: number): void => {
  // A clock that steps back (a test resetting it) earns nothing rather than taking tokens away.
  if (now > bucket.updatedAt) {
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.updatedAt) * rate) / 1000)
  }
  bucket.updatedAt = Math.max(bucket.updatedAt, now)
}

/**
 * Whether `amount` tokens are there (a full bucket also lends more than its capacity, so that one item larger
 * than a second's worth still passes, and then owes it).
 */
export const canTake = (bucket: TokenBucket, amount: number, capacity: number): boolean =>
  bucket.tokens >= amount || (amount > capacity && bucket.tokens >= capacity)
