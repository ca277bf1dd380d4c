/**
 * `npm run demo`: 100,000 records through `KinesisWriter.layer` into a 16-shard embedded Kinesis with AWS's
 * per-shard limits that also fails some records as AWS sometimes does, then every record read back and checked
 * byte for byte.
 */
import { KinesisWriter } from "@effect-kinesis/writer-effect3"
import * as Effect from "effect/Effect"
import { KinesisProxy } from "./KinesisProxy.js"
import { LocalKinesis } from "./LocalKinesis.js"

// This program runs on Node 20 on purpose (the project's pinned runtime); the SDK's notice about Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true"

const RECORDS = 100_000
const SHARDS = 16
const STREAM = "demo"
const FAILING = 0.02

const utf8 = new TextEncoder()
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex")
const number = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits })

// The i-th message: a JSON object, a line of text or some bytes, each unique, with one of 2,000 partition keys.
const message = (i: number): { readonly message: unknown; readonly data: Uint8Array; readonly kind: string } => {
  switch (i % 10) {
    case 0:
    case 1:
    case 2:
    case 3: {
      const value = { id: i, user: `user-${i % 977}`, action: i % 3 === 0 ? "view" : "click", price: (i % 1000) / 4 }
      return { message: value, data: utf8.encode(JSON.stringify(value)), kind: "JSON" }
    }
    case 4:
    case 5:
    case 6: {
      const text = `line ${i}: ${"détail ✓ ".repeat(1 + (i % 7))}`
      return { message: text, data: utf8.encode(text), kind: "text" }
    }
    default: {
      const bytes = new Uint8Array(16 + (i % 200))
      for (let j = 0; j < bytes.length; j++) bytes[j] = (i * 31 + j * 7) & 0xff
      new DataView(bytes.buffer).setUint32(0, i)
      return { message: bytes, data: bytes, kind: "binary" }
    }
  }
}

const program = Effect.gen(function*() {
  const local = yield* LocalKinesis
  const proxy = yield* KinesisProxy
  console.log(
    `effect-kinesis demo: ${number(RECORDS)} records into a ${SHARDS}-shard embedded Kinesis at ${local.endpoint}` +
      ` (AWS's per-shard limits; ${FAILING * 100}% of records fail with InternalFailure)\n`
  )
  const expected = new Map<string, number>()
  const kinds = new Map<string, number>()
  let bytes = 0
  const started = performance.now()
  const stats = yield* Effect.gen(function*() {
    const writer = yield* KinesisWriter
    for (let i = 0; i < RECORDS; i++) {
      const { data, kind, message: value } = message(i)
      const key = `customer-${i % 2000}`
      expected.set(`${key}/${hex(data)}`, (expected.get(`${key}/${hex(data)}`) ?? 0) + 1)
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1)
      bytes += data.length
      yield* writer.enqueue(value, key)
    }
    yield* writer.flush
    return yield* writer.stats
  }).pipe(Effect.provide(KinesisWriter.layer({ stream: STREAM })))
  const seconds = (performance.now() - started) / 1000

  const stored = yield* local.readAll(STREAM)
  let duplicates = 0
  let unexpected = 0
  const perShard = new Map<string, number>()
  for (const record of stored) {
    perShard.set(record.shardId, (perShard.get(record.shardId) ?? 0) + 1)
    const id = `${record.partitionKey}/${hex(record.data)}`
    const left = expected.get(id)
    if (left === undefined) unexpected++
    else if (left === 0) duplicates++
    else expected.set(id, left - 1)
  }
  const missing = [...expected.values()].reduce((sum, left) => sum + left, 0)
  const counters = yield* proxy.counters

  const mix = [...kinds].map(([kind, count]) => `${number(count)} ${kind}`).join(", ")
  console.log(`  written    ${number(stats.accepted)} records (${mix}), ${number(bytes / 1e6, 1)} MB, 2,000 keys`)
  console.log(`  time       ${number(seconds, 2)} s, ${number(stats.accepted / seconds)} records/s`)
  console.log(
    `  requests   ${number(stats.requests)} PutRecords, ${number(stats.retried)} records retried` +
      ` (${number(counters.records.throttled)} over a shard's limits, ${number(counters.records.faulted)}` +
      ` InternalFailure), ${number(stats.failed)} failed`
  )
  console.log(
    `  read back  ${number(stored.length)} records from ${perShard.size} shards (${
      [...perShard.values()].map((count) => number(count)).join(" / ")
    })`
  )
  if (missing === 0 && unexpected === 0 && duplicates === 0 && stats.failed === 0) {
    console.log(`\n  every record was read back, byte for byte: nothing lost, nothing duplicated.`)
  } else {
    console.log(
      `\n  MISMATCH: ${missing} missing, ${duplicates} duplicated, ${unexpected} unexpected, ${stats.failed} failed`
    )
    process.exitCode = 1
  }
})

Effect.runPromise(
  program.pipe(
    Effect.provide(
      LocalKinesis.layer({
        streams: { [STREAM]: SHARDS },
        limits: true,
        faults: { internalFailure: FAILING, seed: 7 }
      })
    )
  )
).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
