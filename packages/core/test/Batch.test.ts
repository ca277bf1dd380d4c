import { Batch, Fault } from "@effect-kinesis/core"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"

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
          const settlement = Batch.settle(batch.map((_, i) => i), results, Fault.isRetriableCode)
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
    ], Fault.isRetriableCode)
    expect(settlement.delivered).toEqual([{ item: "a", shardId: "shardId-000000000003", sequenceNumber: "17" }])
    expect(settlement.retry).toEqual([
      { item: "b", code: "ProvisionedThroughputExceededException", detail: "Rate exceeded" },
      { item: "c", code: "InternalFailure", detail: "" }
    ])
    expect(settlement.failed).toEqual([{ item: "d", code: "KMSAccessDeniedException", detail: "no key" }])
  })

  it("retries the entries a short response did not answer, and answers without a sequence number", () => {
    const settlement = Batch.settle(["a", "b", "c"], [{ ShardId: "s", SequenceNumber: "1" }, {}], Fault.isRetriableCode)
    expect(settlement.delivered.map((d) => d.item)).toEqual(["a"])
    expect(settlement.retry.map((r) => [r.item, r.code])).toEqual([["b", "MissingResult"], ["c", "MissingResult"]])
    expect(Batch.settle(["a"], undefined, Fault.isRetriableCode).retry).toHaveLength(1)
  })
})
