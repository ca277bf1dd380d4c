#!/usr/bin/env node
// How long `flush` takes after a throttle, by linger (issue 16's first liveness bug): one shard with AWS's limits in
// the embedded Kinesis, 10 records on one key, the first 2 throttled once; medians of 5 runs per linger. Run after
// `npm run build`: `node scripts/flush-after-throttle.mjs effect4` (or effect3, on the Node that runs Effect 3).
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"

const line = process.argv[2] === "effect3" ? "effect3" : "effect4"
const root = fileURLToPath(new URL("..", import.meta.url))
const from = (dir) => createRequire(`${root}packages/${dir}/package.json`)
const writerDir = line === "effect3" ? "writer-effect3" : "writer"
const { Effect } = await import(from(writerDir).resolve("effect"))
const { KinesisWriter } = await import(`${root}packages/${writerDir}/dist/index.js`)
const { LocalKinesis } = await import(`${root}packages/${line === "effect3" ? "local-effect3" : "local"}/dist/index.js`)

const flushMillis = (linger) =>
  Effect.gen(function*() {
    const local = yield* LocalKinesis
    const throttleTwice = { indexes: [0, 1], code: "ProvisionedThroughputExceededException", times: 1 }
    yield* local.proxy.setFaults({ failIndexes: throttleTwice })
    const writer = yield* KinesisWriter.make({ stream: "one", linger })
    for (let i = 0; i < 10; i++) yield* writer.enqueue(`r${i}`, "one-key")
    const start = Date.now()
    yield* writer.flush.pipe(Effect.timeout("25 seconds"), Effect.exit)
    return Date.now() - start
  }).pipe(Effect.scoped, Effect.provide(LocalKinesis.layer({ streams: { one: 1 }, limits: true })))

for (const linger of ["100 millis", "10 seconds", "1 hour"]) {
  const runs = []
  for (let i = 0; i < 5; i++) runs.push(await Effect.runPromise(flushMillis(linger)))
  runs.sort((a, b) => a - b)
  console.log(`${line}, linger ${linger}: flush after a throttle ${runs[2]} ms (median of ${runs.join(", ")} ms)`)
}
