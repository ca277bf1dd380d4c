import { KinesisClient, PutRecordsCommand } from "@aws-sdk/client-kinesis"
import { LocalKinesis } from "@effect-kinesis/local-effect3"
import { describe, expect, it } from "@effect/vitest"
import { NodeHttpHandler } from "@smithy/node-http-handler"
import * as Effect from "effect/Effect"
import { createRequire } from "node:module"
import * as Chart from "../src/Chart.js"
import { inProcess, run, verify } from "../src/Harness.js"
import type { WriterName } from "../src/Job.js"
import { isHot } from "../src/Offer.js"
import { payload, tally } from "../src/Payload.js"
import * as Report from "../src/Report.js"
import * as Results from "../src/Results.js"
import { runJob } from "../src/Run.js"
import * as Scenarios from "../src/Scenarios.js"
import * as Targets from "../src/Targets.js"
import * as Utilization from "../src/Utilization.js"

const utf8 = new TextEncoder()
// aws-kinesis-writable loads the AWS SDK v2, whose end-of-support notice would only clutter the test output.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1"

describe("Harness", () => {
  it("tallies delivered, missing, duplicate and foreign records against the offered range", () => {
    const data = [0, 1, 1, 3, 3, 3, 7].map((index) => utf8.encode(payload(index, 100)))
    data.push(utf8.encode("not a payload"))
    expect(tally(5, data)).toEqual({ expected: 5, delivered: 3, missing: 2, duplicates: 3, foreign: 2 })
  })

  it.scoped("counts the records missing from and duplicated in a stream", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis.make({ streams: { counted: 2 } })
      // Records 0-99 offered: the 10 ending in 3 never sent, five sent twice.
      const sent = [...Array.from({ length: 100 }, (_, i) => i).filter((i) => i % 10 !== 3), 0, 1, 2, 4, 5]
      const failed = yield* Effect.promise(async () => {
        const requestHandler = new NodeHttpHandler()
        const client = new KinesisClient({ ...local.clientConfig, maxAttempts: 1, requestHandler })
        const response = await client.send(
          new PutRecordsCommand({
            StreamName: "counted",
            Records: sent.map((i) => ({ Data: utf8.encode(payload(i, 100)), PartitionKey: `k${i}` }))
          })
        )
        client.destroy()
        return response.FailedRecordCount ?? 0
      })
      expect(failed).toBe(0)
      expect(yield* verify(local, "counted", 100)).toEqual({
        expected: 100,
        delivered: 90,
        missing: 10,
        duplicates: 5,
        foreign: 0
      })
    }))

  for (
    const writer of [
      "hand-loop",
      "effect-kinesis",
      "effect-kinesis-effect3",
      "aws-kinesis-writable"
    ] satisfies Array<WriterName>
  ) {
    it.scoped(`runs ${writer} to the end, every record read back once`, () =>
      Effect.gen(function*() {
        const local = yield* LocalKinesis.make({ streams: { bench: 2 } })
        const measured = yield* Effect.promise(() =>
          runJob({
            writer,
            endpoint: local.endpoint,
            region: local.region,
            stream: "bench",
            records: 1_200,
            recordBytes: 100,
            ratePerSecond: undefined,
            concurrency: 4,
            maxSockets: 4
          })
        )
        expect(measured.reportedFailed).toBe(0)
        expect(measured.elapsedMs).toBeGreaterThan(0)
        expect(yield* verify(local, "bench", 1_200)).toEqual({
          expected: 1_200,
          delivered: 1_200,
          missing: 0,
          duplicates: 0,
          foreign: 0
        })
      }))
  }

  it("resolves effect 4 in the Effect 4 line's driver package and effect 3 in the bench's own files", () => {
    const major = (from: string) => {
      const require = createRequire(new URL(from, import.meta.url))
      return (require("effect/package.json") as { readonly version: string }).version.split(".")[0]
    }
    expect(major("../../bench-effect4/src/index.ts")).toBe("4")
    expect(major("../src/writers/EffectKinesisEffect3.ts")).toBe("3")
  })

  it("relates runs of the same round: per-round ratios to other writers and cases, medians of them", () => {
    const cases = Scenarios.plan("quick").cases
    expect(cases.filter((c) => c.writers.includes("effect-kinesis-effect3")).map((c) => c.id)).toEqual(["clean-32"])
    const run = (id: string, writer: WriterName, round: number, cpu: number, ok = true) =>
      ({ case: id, round, writer, ok, cpuMicrosPerRecord: cpu, missing: ok ? 0 : 1, duplicates: 0 }) as Results.Run
    const runs = Results.relate([
      run("clean-32", "effect-kinesis", 0, 40),
      run("clean-32", "effect-kinesis-effect3", 0, 50),
      run("clean-32", "hand-loop", 0, 20),
      run("clean-32", "effect-kinesis", 1, 30),
      run("clean-32", "effect-kinesis-effect3", 1, 60),
      run("clean-32", "hand-loop", 1, 10),
      // A run that lost records is no reference: round 2 has no ratio to Effect 3.
      run("clean-32", "effect-kinesis", 2, 10),
      run("clean-32", "effect-kinesis-effect3", 2, 60, false),
      run("clean", "effect-kinesis", 0, 44)
    ])
    const mine = runs.filter((r) => r.case === "clean-32" && r.writer === "effect-kinesis")
    expect(mine.map((r) => r.effect3CpuRatio)).toEqual([0.8, 0.5, undefined])
    expect(mine.map((r) => r.cpuRatio)).toEqual([2, 3, undefined])
    expect(runs.find((r) => r.case === "clean")?.pacedCpuRatio).toBeCloseTo(1.1)
    const [summary] = Results.summarize(cases, runs).filter((s) =>
      s.case === "clean-32" && s.writer === "effect-kinesis"
    )
    expect(summary.effect3CpuRatio).toBeCloseTo(0.65)
    expect(summary.cpuRatio).toBe(2.5)
    const target = Targets.targets.find((t) => t.case === "clean-32" && t.metric === "cpuRatio")!
    expect(Targets.check(target, { runs, summaries: [summary], core: undefined })).toMatchObject({
      figure: 2.5,
      rounds: [2, 3],
      met: false
    })
  })

  it("puts the hot key's share of the records on it, spread evenly", () => {
    const hot = Array.from({ length: 1000 }, (_, i) => isHot(i, 0.5))
    expect(hot.filter(Boolean).length).toBe(500)
    expect(hot.slice(0, 4)).toEqual([false, true, false, true])
    expect(Array.from({ length: 100 }, (_, i) => isHot(i, 0)).some(Boolean)).toBe(false)
  })

  it("measures capacity over the offered window's whole seconds but the first, and a split's new shards", () => {
    const second = (s: number, shardId: string, accepted: number) => ({
      stream: "bench",
      shardId,
      second: s,
      accepted,
      acceptedBytes: accepted * 100,
      throttled: 0,
      faulted: 0
    })
    // Offered from 10.5 s to 15.2 s: whole seconds 11 to 14.
    expect(Utilization.measuredSeconds({ from: 10_500, until: 15_200 })).toEqual([11, 12, 13, 14])
    const split = { atMs: 12_300, parent: "p", children: ["a", "b"] }
    const seconds = [
      second(12, "a", 1_500),
      second(12, "b", 1_500),
      second(13, "a", 800),
      second(13, "b", 950),
      second(14, "a", 950),
      second(14, "b", 990),
      second(15, "a", 1_000),
      second(15, "b", 1_000)
    ]
    // Second 12 holds the split; 13 and 14 together are under 90% for "a": from 14 on both stay above it.
    expect(Utilization.splitToCapacity(seconds, split, 16_000)).toBeCloseTo(1.7)
    const testCase = Scenarios.plan("quick").cases.find((c) => c.id === "split")!
    const used = Utilization.measure(testCase, seconds, { from: 9_000, until: 16_200 }, split)
    // From the split to 16 s: 8,690 records, of at most 2 shards x 3.7 s x 1,000 plus a burst of 1,000 each.
    expect(used.seconds).toBeCloseTo(3.7)
    expect(used.capacityShare).toBeCloseTo(8_690 / 9_400)
    expect(used.rateShare).toBeCloseTo(8_690 / 7_400)
    // A window mid-run: whole seconds 14 and 15 over 2 shards' limit, no burst.
    expect(Utilization.rateShare(seconds, { from: 13_500, until: 16_000 }, 2)).toBeCloseTo(3_940 / 4_000)
  })

  it("measures the byte capacity user records filled, from the proxy's Kinesis bytes and the read-back's share", () => {
    const testCase = Scenarios.plan("quick").cases.find((c) => c.id === "aggregated")!
    const second = (s: number, shardId: string, bytes: number) => ({
      stream: "bench",
      shardId,
      second: s,
      accepted: 10,
      acceptedBytes: bytes,
      throttled: 0,
      faulted: 0
    })
    const MiB = 1024 * 1024
    // Offered from 10.5 s to 13.2 s: seconds 10 to 12 measured, 4 shards full in 11 and 12, half full in 10.
    const seconds = ["0", "1", "2", "3"].flatMap((shard) => [
      second(10, shard, MiB / 2),
      second(11, shard, MiB),
      second(12, shard, MiB),
      second(13, shard, MiB)
    ])
    const kinesisBytes = Utilization.storedBytes(seconds)
    expect(kinesisBytes).toBe(14 * MiB)
    // The user records are 90% of the Kinesis bytes stored: 10 MiB of them in the window's 11.2 MiB of Kinesis bytes.
    const used = Utilization.measure(testCase, seconds, { from: 10_500, until: 13_200 }, undefined, 0.9 * kinesisBytes)
    expect(used.seconds).toBeCloseTo(2.5)
    expect(used.storedShare).toBeCloseTo(10 * MiB / (4 * 3.5 * MiB))
    expect(used.capacityShare).toBeCloseTo(0.9 * 10 * MiB / (4 * 3.5 * MiB))
    // Full aggregates of 100-byte records with 7-byte keys: the format's own bytes are about 8% of them.
    expect(Utilization.aggregationCeiling(100)).toBeGreaterThan(0.9)
    expect(Utilization.aggregationCeiling(100)).toBeLessThan(0.95)
  })

  it.effect(
    "runs the aggregating writer for a time-bounded offer, every user record read back once",
    () =>
      Effect.gen(function*() {
        const testCase: Scenarios.Case = {
          ...Scenarios.plan("quick").cases.find((c) => c.id === "aggregated")!,
          records: 20_000,
          ratePerSecond: 10_000,
          offerSeconds: 0.4
        }
        const result = yield* Effect.promise(() =>
          run("effect-kinesis-aggregated", {
            records: testCase.records,
            recordBytes: testCase.recordBytes,
            shards: 2,
            ratePerSecond: testCase.ratePerSecond,
            concurrency: 4,
            maxSockets: 4,
            local: { limits: true },
            fork: { timeoutMs: 30_000 },
            offerMs: testCase.offerSeconds! * 1000,
            executor: inProcess
          })
        )
        expect(result.error).toBeUndefined()
        // The offer ended with its time, far short of its records; the read-back counts what was offered.
        expect(result.records).toBeGreaterThan(1_000)
        expect(result.records).toBeLessThan(testCase.records)
        expect(result.tally).toEqual({
          expected: result.records,
          delivered: result.records,
          missing: 0,
          duplicates: 0,
          foreign: 0
        })
        expect(result.userBytes).toBe(
          Array.from({ length: result.records }, (_, i) => testCase.recordBytes + `k${i}`.length)
            .reduce((sum, bytes) => sum + bytes, 0)
        )
        const [flat] = Results.flatten(testCase, 0, [result])
        expect(flat.ok).toBe(true)
        // Many user records a Kinesis record, whose bytes hold theirs and the format's own.
        expect(flat.kinesisRecords).toBeLessThan(flat.stored! / 10)
        expect(flat.kinesisBytes).toBeGreaterThan(flat.userBytes!)
        const plan = { ...Scenarios.plan("quick"), cases: [testCase] }
        const summaries = Results.summarize(plan.cases, [flat])
        const target = Targets.targets.find((t) => t.case === "aggregated" && t.metric === "capacityShare")!
        // Checked (not "not run"), and not met: a window of less than a second fills none of the capacity.
        expect(Targets.check(target, { runs: [flat], summaries, core: undefined }).met).toBe(false)
      }),
    30_000
  )

  it.effect(
    "runs two writer processes on one stream through a split, every record read back once",
    () =>
      Effect.gen(function*() {
        const testCase: Scenarios.Case = {
          ...Scenarios.plan("quick").cases.find((c) => c.id === "split")!,
          records: 1_000,
          ratePerSecond: 1_000,
          processes: 2,
          splitAfterSeconds: 0.3
        }
        const result = yield* Effect.promise(() =>
          run("effect-kinesis", {
            records: testCase.records,
            recordBytes: testCase.recordBytes,
            shards: testCase.shards,
            ratePerSecond: testCase.ratePerSecond,
            concurrency: 4,
            maxSockets: 4,
            local: { limits: true },
            fork: { timeoutMs: 30_000 },
            processes: testCase.processes,
            splitAfterMs: testCase.splitAfterSeconds! * 1000,
            executor: inProcess
          })
        )
        expect(result.error).toBeUndefined()
        expect(result.tally).toEqual({ expected: 2_000, delivered: 2_000, missing: 0, duplicates: 0, foreign: 0 })
        expect(result.split?.children).toHaveLength(2)
        expect(result.server.offered).toBeGreaterThanOrEqual(2_000)
        const [flat] = Results.flatten(testCase, 0, [result])
        expect(flat.ok).toBe(true)
        expect(flat.stored).toBe(2_000)
        expect(flat.split?.parent).toBe(result.split?.parent)
        expect(flat.seconds?.some((second) => result.split!.children.includes(second.shard))).toBe(true)
        // The report, the chart and the targets are made of such runs.
        const plan = { ...Scenarios.plan("quick"), cases: [testCase] }
        const summaries = Results.summarize(plan.cases, [flat])
        const results: Results.Results = {
          machine: { date: "", cpu: "", cores: 2, memoryGiB: 1, node: "", platform: "", loadAverage: 0, revision: "" },
          plan,
          runs: [flat],
          summaries,
          core: undefined
        }
        // Two processes: each one's records stored while both offered, and their times.
        expect(flat.shares).toHaveLength(2)
        expect(flat.timeSpread).toBeGreaterThanOrEqual(1)
        const target = Targets.targets.find((t) => t.case === "split")!
        expect(Targets.check(target, results).met).toBeDefined()
        expect(Report.report(results, "md")).toContain("split")
        expect(Chart.svg(results)).toContain("</svg>")
      }),
    30_000
  )
})
