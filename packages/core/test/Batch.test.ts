import { Batch, Retry } from "@effect-kinesis/writer"
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"

const sized = (sizes: ReadonlyArray<number>) => sizes.map((size, id) => ({ id, size }))

const limitsArbitrary = fc.record({
  maxBatchRecords: fc.integer({ min: 1, max: 500 }),
  maxBatchBytes: fc.integer({ min: 1, max: 5000 })
})

describe("Batch.cut", () => {
  it("keeps every batch within bounds, and the batches concatenated equal the input", () => {
    fc.assert(
      fc.property(
        limitsArbitrary,
        fc.array(fc.integer({ min: 1, max: 1000 }), { maxLength: 2000 }),
        (limits, sizes) => {
          const items = sized(sizes.map((size) => Math.min(size, limits.maxBatchBytes)))
          const batches = Batch.cut(items, limits)
          expect(batches.flat()).toEqual(items)
          for (const batch of batches) {
            expect(batch.length).toBeGreaterThan(0)
            expect(batch.length).toBeLessThanOrEqual(limits.maxBatchRecords)
            expect(batch.reduce((bytes, item) => bytes + item.size, 0)).toBeLessThanOrEqual(limits.maxBatchBytes)
          }
          // Each batch is as large as it may be: the next item would break a bound.
          for (let i = 0; i + 1 < batches.length; i++) {
            const bytes = batches[i].reduce((sum, item) => sum + item.size, 0)
            const full = batches[i].length === limits.maxBatchRecords ||
              bytes + batches[i + 1][0].size > limits.maxBatchBytes
            expect(full).toBe(true)
          }
        }
      )
    )
  })

  it("makes one batch of records that add up to exactly the byte limit", () => {
    expect(Batch.cut(sized([40, 30, 30]), { maxBatchRecords: 500, maxBatchBytes: 100 })).toHaveLength(1)
    expect(Batch.cut(sized([40, 30, 31]), { maxBatchRecords: 500, maxBatchBytes: 100 })).toHaveLength(2)
  })

  it("cuts at 500 records", () => {
    const batches = Batch.cut(sized(Array(1201).fill(1)), { maxBatchRecords: 500, maxBatchBytes: 5 * 1024 * 1024 })
    expect(batches.map((batch) => batch.length)).toEqual([500, 500, 201])
  })

  it("still moves on past an item larger than a batch, alone", () => {
    expect(Batch.cut(sized([5, 200, 5]), { maxBatchRecords: 10, maxBatchBytes: 100 }).map((b) => b.length))
      .toEqual([1, 1, 1])
  })
})

describe("Batch.take", () => {
  it("counts from a start index, as the writer's queue uses it", () => {
    expect(Batch.take(sized([1, 1, 50, 50, 1]), 2, { maxBatchRecords: 500, maxBatchBytes: 100 })).toBe(2)
    expect(Batch.take(sized([1, 1]), 2, { maxBatchRecords: 500, maxBatchBytes: 100 })).toBe(0)
  })
})

describe("Batch.isFull", () => {
  it("says a batch is full at either bound", () => {
    const limits = { maxBatchRecords: 3, maxBatchBytes: 100 }
    expect(Batch.isFull(2, 99, limits)).toBe(false)
    expect(Batch.isFull(3, 10, limits)).toBe(true)
    expect(Batch.isFull(1, 100, limits)).toBe(true)
  })
})

const resultArbitrary = fc.oneof(
  fc.record({ ShardId: fc.constant("shardId-000000000001"), SequenceNumber: fc.string({ minLength: 1 }) }),
  fc.record({
    ErrorCode: fc.constantFrom("ProvisionedThroughputExceededException", "InternalFailure", "AccessDeniedException"),
    ErrorMessage: fc.option(fc.string(), { nil: undefined })
  }),
  fc.constant({}),
  fc.constant({ ErrorCode: "" })
)

describe("Batch.settle", () => {
  it("accounts for each entry exactly once, in order, whatever the response", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer(), { maxLength: 500 }),
        fc.array(resultArbitrary, { maxLength: 520 }),
        (batch, results) => {
          const settlement = Batch.settle(batch.map((_, i) => i), results, Retry.isRetriableCode)
          const seen = [
            ...settlement.delivered.map((d) => d.item),
            ...settlement.retry.map((r) => r.item),
            ...settlement.failed.map((f) => f.item)
          ].sort((a, b) => a - b)
          expect(seen).toEqual(batch.map((_, i) => i))
          for (const list of [settlement.delivered, settlement.retry, settlement.failed]) {
            const items = list.map((entry) => entry.item)
            expect(items).toEqual([...items].sort((a, b) => a - b))
          }
          for (const { item } of settlement.delivered) {
            expect((results[item] as Batch.ResultEntry).SequenceNumber).toBeDefined()
          }
        }
      )
    )
  })

  it("sorts entries into delivered, retry and failed by their error codes", () => {
    const settlement = Batch.settle(["a", "b", "c", "d"], [
      { ShardId: "shardId-000000000003", SequenceNumber: "17" },
      { ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: "Rate exceeded" },
      { ErrorCode: "InternalFailure" },
      { ErrorCode: "KMSAccessDeniedException", ErrorMessage: "no key" }
    ], Retry.isRetriableCode)
    expect(settlement.delivered).toEqual([{ item: "a", shardId: "shardId-000000000003", sequenceNumber: "17" }])
    expect(settlement.retry).toEqual([
      { item: "b", code: "ProvisionedThroughputExceededException", detail: "Rate exceeded" },
      { item: "c", code: "InternalFailure", detail: "" }
    ])
    expect(settlement.failed).toEqual([{ item: "d", code: "KMSAccessDeniedException", detail: "no key" }])
  })

  it("retries the entries a short response did not answer, and answers without a sequence number", () => {
    const settlement = Batch.settle(["a", "b", "c"], [{ ShardId: "s", SequenceNumber: "1" }, {}], Retry.isRetriableCode)
    expect(settlement.delivered.map((d) => d.item)).toEqual(["a"])
    expect(settlement.retry.map((r) => [r.item, r.code])).toEqual([["b", "MissingResult"], ["c", "MissingResult"]])
    expect(Batch.settle(["a"], undefined, Retry.isRetriableCode).retry).toHaveLength(1)
  })
})
