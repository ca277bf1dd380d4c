#!/usr/bin/env node
/**
 * CPU per record of the writers, for comparing builds of the same code base (issue 18, item 1).
 *
 * The embedded Kinesis (packages/local-server, no limits, no faults) runs in this process; each measurement runs in
 * a child process of its own, which writes `--records` records of `--bytes` bytes and reports the CPU time of its
 * own process (process.cpuUsage: user + system) from the first record offered until `flush` returned, its wall
 * time and its peak RSS. Medians over `--rounds` rounds; in each round the variants and writers run in an order
 * rotated by one, so a load that drifts over time touches all of them alike.
 *
 *   node_modules/.bin/node scripts/cpu-per-record.mjs snapshot NAME     copies the built dist of core, writer and
 *                                                                        writer-effect3 (npx tsc -b first) aside
 *   node_modules/.bin/node scripts/cpu-per-record.mjs run [options]      measures
 *
 * Options of `run`:
 *   --variants a,b     snapshots to compare (default: "current", the built dist of this tree, read in place)
 *   --writers list     hand (a lean PutRecords loop on the same client), enqueue, sink, all (enqueueAll by chunks of
 *                      1,024), effect3 (the Effect 3 line's enqueue), effect3-sink, effect3-all; core (the pure
 *                      core alone, no I/O); a writer's name with "@fake" (enqueue@fake) runs it on a stand-in client
 *                      that answers every PutRecords 5 ms later, all stored: the shell's and the core's cost alone;
 *                      default hand,enqueue,sink,effect3
 *   --records N --bytes N --shards N --rounds N    (default 100000, 100, 32, 5)
 *   --profile DIR      one .cpuprofile per measurement (V8 sampling every 100 us), for the first round only
 *   --node-flags "..." flags for the children's node (e.g. "--trace-deopt")
 *
 * The hand loop: each record's bytes (UTF-8 of the payload) and key made in the offer loop, as the writers get
 * them; batches of up to 500 records straight from the array, 4 requests in flight, a batch goes when full or when
 * the producer is done, entries a response refuses go again after 100 ms; no linger timer, no validation, no
 * buffer bound beyond 10,000 records, nothing per record beyond the SDK's entry. Same SDK client settings as the
 * writers (HTTP/1.1, keep-alive agent, one attempt).
 *
 * The payload is the bench's (packages/bench/src/Payload.ts): a JSON string literal carrying its index, padded
 * with "x". The writers choose their own partition keys (as in the bench's clean scenarios); the hand loop uses
 * `k<index>`.
 */
import { fork } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const snapshots = path.join(os.tmpdir(), "cpu-per-record")
const packages = ["core", "writer", "writer-effect3"]

const args = process.argv.slice(2)
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`)
  return i < 0 ? fallback : args[i + 1]
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

// A snapshot: the packages' dist and package.json, and a node_modules that resolves them there and everything
// else in this tree's node_modules (the Effect 3 shell's nested node_modules too).
const snapshot = (name) => {
  const dir = path.join(snapshots, name)
  fs.rmSync(dir, { recursive: true, force: true })
  for (const pkg of packages) {
    const to = path.join(dir, "packages", pkg)
    fs.mkdirSync(to, { recursive: true })
    fs.cpSync(path.join(root, "packages", pkg, "dist"), path.join(to, "dist"), { recursive: true })
    fs.copyFileSync(path.join(root, "packages", pkg, "package.json"), path.join(to, "package.json"))
  }
  fs.symlinkSync(
    path.join(root, "packages", "writer-effect3", "node_modules"),
    path.join(dir, "packages", "writer-effect3", "node_modules")
  )
  const modules = path.join(dir, "node_modules")
  fs.mkdirSync(path.join(modules, "@effect-kinesis"), { recursive: true })
  for (const entry of fs.readdirSync(path.join(root, "node_modules"))) {
    if (entry === "@effect-kinesis" || entry === ".bin" || entry === ".cache") continue
    fs.symlinkSync(path.join(root, "node_modules", entry), path.join(modules, entry))
  }
  for (const pkg of packages) {
    fs.symlinkSync(path.join(dir, "packages", pkg), path.join(modules, "@effect-kinesis", pkg))
  }
  fs.symlinkSync(
    path.join(root, "node_modules", "@effect-kinesis", "local-server"),
    path.join(modules, "@effect-kinesis", "local-server")
  )
  console.log(`snapshot ${name}: ${dir}`)
}

const variantRoot = (name) => name === "current" ? root : path.join(snapshots, name)

// ---------------------------------------------------------------------------------------------------------------
// The child: one measurement.
// ---------------------------------------------------------------------------------------------------------------

const filler = "x".repeat(16 * 1024)
const payload = (index, bytes) => "\"" + index.toString().padStart(10, "0") + filler.slice(0, bytes - 12) + "\""

const peakRss = () => {
  const kib = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"))?.[1]
  return kib === undefined ? process.resourceUsage().maxRSS * 1024 : Number(kib) * 1024
}

const clientOf = async (base, task) => {
  const { KinesisClient } = await import(
    pathToFileURL(path.join(base, "node_modules/@aws-sdk/client-kinesis/dist-cjs/index.js"))
  )
  const { NodeHttpHandler } = await import(
    pathToFileURL(path.join(base, "node_modules/@smithy/node-http-handler/dist-cjs/index.js"))
  )
  const http = await import("node:http")
  return new KinesisClient({
    endpoint: task.endpoint,
    region: task.region,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true, maxSockets: 50 }) })
  })
}

const handLoop = async (client, task) => {
  const { PutRecordsCommand } = await import(
    pathToFileURL(path.join(variantRoot(task.variant), "node_modules/@aws-sdk/client-kinesis/dist-cjs/index.js"))
  )
  const utf8 = new TextEncoder()
  return async () => {
    let requests = 0
    let fresh = []
    let head = 0
    const retries = []
    let produced = false
    let inFlight = 0
    let wake
    let room
    const signal = () => {
      const resume = wake
      wake = undefined
      resume?.()
    }
    const next = () => {
      const now = performance.now()
      const batch = []
      while (retries.length > 0 && retries[0].at <= now && batch.length < 500) {
        const entries = retries[0].entries
        while (entries.length > 0 && batch.length < 500) batch.push(entries.pop())
        if (entries.length === 0) retries.shift()
      }
      if (batch.length === 0 && fresh.length - head < 500 && !produced) return undefined
      while (head < fresh.length && batch.length < 500) batch.push(fresh[head++])
      if (head === fresh.length) {
        fresh = []
        head = 0
      }
      if (room !== undefined && fresh.length - head < 10_000) {
        const resume = room
        room = undefined
        resume()
      }
      return batch.length === 0 ? undefined : batch
    }
    const worker = async () => {
      while (true) {
        const batch = next()
        if (batch === undefined) {
          if (produced && inFlight === 0 && retries.length === 0 && head === fresh.length) return signal()
          await new Promise((resolve) => {
            const previous = wake
            wake = () => {
              previous?.()
              resolve()
            }
            if (retries.length > 0) setTimeout(signal, Math.max(1, retries[0].at - performance.now()))
          })
          continue
        }
        inFlight++
        requests++
        let failed = []
        try {
          const response = await client.send(new PutRecordsCommand({ StreamName: task.stream, Records: batch }))
          const results = response.Records ?? []
          for (let i = 0; i < batch.length; i++) {
            if (results[i] === undefined || results[i].ErrorCode) failed.push(batch[i])
          }
        } catch (error) {
          if (process.env.CPR_DEBUG) console.error(String(error))
          failed = batch
        }
        if (process.env.CPR_DEBUG) console.error(`request ${batch.length} failed ${failed.length}`)
        inFlight--
        if (failed.length > 0) retries.push({ entries: failed, at: performance.now() + 100 })
        signal()
      }
    }
    const workers = Array.from({ length: 4 }, worker)
    for (let i = 0; i < task.records; i++) {
      fresh.push({ Data: utf8.encode(payload(i, task.bytes)), PartitionKey: `k${i}` })
      if (fresh.length - head === 500) signal()
      if (fresh.length - head >= 10_000) await new Promise((resolve) => (room = resolve))
    }
    produced = true
    signal()
    await Promise.all(workers)
    return { requests }
  }
}

const effectWriter = async (client, task) => {
  const base = variantRoot(task.variant)
  const line3 = task.writer.startsWith("effect3")
  const at = line3 ? path.join(base, "packages/writer-effect3") : base
  const modules = line3 ? path.join(at, "node_modules") : path.join(base, "node_modules")
  const load = (name) => import(pathToFileURL(path.join(modules, "effect/dist", line3 ? "esm" : "", `${name}.js`)).href)
  const [Effect, Stream, Option, Chunk] = await Promise.all(["Effect", "Stream", "Option", "Chunk"].map(load))
  const writerPkg = await import(
    pathToFileURL(path.join(line3 ? at : path.join(base, "packages/writer"), "dist/index.js")).href
  )
  const { KinesisWriter, Kinesis } = writerPkg
  const intake = task.writer.endsWith("sink") ? "sink" : task.writer.endsWith("all") ? "all" : "enqueue"
  const options = { stream: task.stream }
  const CHUNK = 1024
  const chunkFrom = (from) => {
    const entries = []
    for (let i = from; i < task.records && entries.length < CHUNK; i++) {
      entries.push({ message: payload(i, task.bytes) })
    }
    return entries
  }
  const take = (writer) => {
    if (intake === "enqueue") {
      return Effect.gen(function*() {
        for (let i = 0; i < task.records; i++) yield* writer.enqueue(payload(i, task.bytes))
      })
    }
    if (intake === "all") {
      return Effect.gen(function*() {
        for (let from = 0; from < task.records; from += CHUNK) yield* writer.enqueueAll(chunkFrom(from))
      })
    }
    // A chunk of entries at a time, as a stream of lines read from a file comes.
    const step = (from) => {
      const entries = chunkFrom(from)
      const next = from + CHUNK < task.records ? Option.some(from + CHUNK) : Option.none()
      return Effect.succeed([line3 ? Chunk.unsafeFromArray(entries) : entries, next])
    }
    const chunks = line3 ? Stream.paginateChunkEffect(0, step) : Stream.paginate(0, step)
    return Stream.run(chunks, writer.sink)
  }
  let requests = 0
  return () =>
    Effect.gen(function*() {
      const writer = yield* KinesisWriter.make(options)
      yield* take(writer)
      yield* writer.flush
      const stats = yield* writer.stats
      requests = stats.requests
    }).pipe(Effect.scoped, Effect.provide(Kinesis.fromClient(client)), Effect.runPromise).then(() => ({ requests }))
}

// The pure core alone on the writer's path, no I/O: Record.encode with the writer's default keys, take, pollSend,
// entriesOf, handleResponse with every record stored, pollEvents; up to `maxInFlight` requests outstanding, the oldest
// answered first. As over HTTP, where the server is slower than the writer: records are taken until the buffer is
// full, and only then sent (each request takes lines in turn, so records are stored far out of the order taken).
const coreOnly = async (task) => {
  const base = variantRoot(task.variant)
  const { Accumulator, Record, Settings, ShardMap } = await import(
    pathToFileURL(path.join(base, "packages/core/dist/index.js")).href
  )
  const step = (1n << 128n) / BigInt(task.shards)
  const shards = Array.from({ length: task.shards }, (_, i) => ({
    ShardId: `shardId-${String(i).padStart(12, "0")}`,
    HashKeyRange: {
      StartingHashKey: String(step * BigInt(i)),
      EndingHashKey: String(i === task.shards - 1 ? (1n << 128n) - 1n : step * BigInt(i + 1) - 1n)
    },
    SequenceNumberRange: { StartingSequenceNumber: "1" }
  }))
  const map = ShardMap.fromShards(shards)
  const messages = Array.from({ length: 10_000 }, (_, i) => payload(i, task.bytes))
  const { defaults } = Settings
  const round = (count) => {
    const acc = Accumulator.make({
      limits: { maxBatchRecords: defaults.maxBatchRecords, maxBatchBytes: defaults.maxBatchBytes },
      lingerMillis: defaults.lingerMillis,
      maxInFlight: defaults.maxInFlight,
      maxBufferedRecords: defaults.maxBufferedRecords,
      maxBufferedBytes: defaults.maxBufferedBytes,
      ordered: false,
      pacing: undefined,
      awaitRoute: true,
      aggregation: undefined,
      streamName: "core"
    })
    Accumulator.handleShardMap(acc, map, 0)
    let counter = 0
    const randomKey = () => "k1x2y3-" + (counter++).toString(36)
    const inFlight = []
    let delivered = 0
    const answer = () => {
      const request = inFlight.shift()
      const results = request.entries.map((held) => ({
        ShardId: held.shard,
        SequenceNumber: "49590338271490256608559692538361571095921575989136588898"
      }))
      Accumulator.handleResponse(acc, request, results, 0)
      for (const event of Accumulator.pollEvents(acc)) if (event._tag === "Delivered") delivered += event.records.length
    }
    const sendAll = () => {
      for (let request = Accumulator.pollSend(acc, 0); request !== undefined; request = Accumulator.pollSend(acc, 0)) {
        Accumulator.entriesOf(request)
        inFlight.push(request)
        if (inFlight.length >= defaults.maxInFlight) answer()
      }
    }
    for (let i = 0; i < count; i++) {
      const encoded = Record.encode(
        messages[i % messages.length],
        undefined,
        randomKey,
        Record.DEFAULT_MAX_RECORD_BYTES
      )
      while (!Accumulator.canTake(acc, encoded.size)) {
        sendAll()
        if (!Accumulator.canTake(acc, encoded.size)) answer()
      }
      Accumulator.take(acc, encoded, undefined, 0)
    }
    Accumulator.flush(acc)
    sendAll()
    while (inFlight.length > 0) {
      answer()
      sendAll()
    }
    if (delivered !== count) throw new Error(`delivered ${delivered} of ${count}`)
  }
  round(task.records)
  return () => round(task.records)
}

// A stand-in for the SDK client, for the shell's cost alone: PutRecords answered `FAKE_LATENCY_MS` later (a timer, as
// a socket's answer comes), every record stored on the shard its key hashes to; ListShards gives `shards` even shards.
// Its own work (an MD5 per record, a result per record) is the same for every variant.
const FAKE_LATENCY_MS = 5
const fakeClient = async (task) => {
  const { ShardMap } = await import(pathToFileURL(path.join(root, "packages/core/dist/index.js")).href)
  const step = (1n << 128n) / BigInt(task.shards)
  const Shards = Array.from({ length: task.shards }, (_, i) => ({
    ShardId: `shardId-${String(i).padStart(12, "0")}`,
    HashKeyRange: {
      StartingHashKey: String(step * BigInt(i)),
      EndingHashKey: String(i === task.shards - 1 ? (1n << 128n) - 1n : step * BigInt(i + 1) - 1n)
    },
    SequenceNumberRange: { StartingSequenceNumber: "1" }
  }))
  const locate = ShardMap.partitionKeyLocator(ShardMap.fromShards(Shards))
  const $metadata = { httpStatusCode: 200, attempts: 1, totalRetryDelay: 0 }
  return {
    send: (command) =>
      new Promise((resolve) =>
        setTimeout(() => {
          const input = command.input
          if (input.Records === undefined) return resolve({ Shards, $metadata })
          const Records = input.Records.map((entry) => ({
            ShardId: locate(entry.PartitionKey),
            SequenceNumber: "49590338271490256608559692538361571095921575989136588898"
          }))
          resolve({ FailedRecordCount: 0, Records, $metadata })
        }, FAKE_LATENCY_MS)
      ),
    destroy: () => {}
  }
}

const child = async (task) => {
  if (task.writer === "core") return measured(await coreOnly(task), task, undefined)
  if (task.writer.endsWith("@fake")) {
    const client = await fakeClient(task)
    return measured(await effectWriter(client, { ...task, writer: task.writer.slice(0, -5) }), task, client)
  }
  const client = await clientOf(variantRoot(task.variant), task)
  const run = task.writer === "hand" ? await handLoop(client, task) : await effectWriter(client, task)
  return measured(run, task, client)
}

// CPU time of this process's threads by name (Linux): the main thread apart from V8's workers (GC, compilers).
const threadCpu = () => {
  const byName = {}
  try {
    for (const tid of fs.readdirSync("/proc/self/task")) {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, "utf8")
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"))
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      const ticks = Number(fields[11]) + Number(fields[12])
      const key = Number(tid) === process.pid ? "main" : name
      byName[key] = (byName[key] ?? 0) + ticks * 10 // USER_HZ 100: a tick is 10 ms
    }
  } catch {
    // Not Linux.
  }
  return byName
}

const measured = async (run, task, client) => {
  globalThis.gc?.()
  let session
  if (task.profile !== undefined) {
    const inspector = await import("node:inspector/promises")
    session = new inspector.Session()
    session.connect()
    await session.post("Profiler.enable")
    await session.post("Profiler.setSamplingInterval", { interval: Number(process.env.CPR_INTERVAL ?? 100) })
    await session.post("Profiler.start")
  }
  const threadsBefore = threadCpu()
  const cpu = process.cpuUsage()
  const start = performance.now()
  const { requests } = (await run()) ?? {}
  const elapsedMs = performance.now() - start
  const used = process.cpuUsage(cpu)
  const threads = threadCpu()
  for (const name of Object.keys(threads)) threads[name] -= threadsBefore[name] ?? 0
  if (session !== undefined) {
    const { profile } = await session.post("Profiler.stop")
    fs.mkdirSync(path.dirname(task.profile), { recursive: true })
    fs.writeFileSync(task.profile, JSON.stringify(profile))
  }
  client?.destroy()
  return { cpuUs: used.user + used.system, userUs: used.user, elapsedMs, peakRss: peakRss(), requests, threads }
}

// ---------------------------------------------------------------------------------------------------------------
// The parent: the embedded Kinesis and the rounds.
// ---------------------------------------------------------------------------------------------------------------

const measure = (task, nodeFlags) =>
  new Promise((resolve, reject) => {
    const proc = fork(fileURLToPath(import.meta.url), ["child", JSON.stringify(task)], {
      execArgv: ["--expose-gc", ...nodeFlags],
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    proc.on("message", (message) => (message.error === undefined ? resolve(message) : reject(new Error(message.error))))
    proc.on("exit", (code) => code !== 0 && reject(new Error(`child exited with ${code}`)))
  })

const run = async () => {
  const variants = option("variants", "current").split(",")
  const writers = option("writers", "hand,enqueue,sink,effect3").split(",")
  const records = Number(option("records", "100000"))
  const bytes = Number(option("bytes", "100"))
  const shards = Number(option("shards", "32"))
  const rounds = Number(option("rounds", "5"))
  const profile = option("profile", undefined)
  const nodeFlags = (option("node-flags", "") ?? "").split(" ").filter((flag) => flag !== "")
  const { LocalServer } = await import(pathToFileURL(path.join(root, "packages/local-server/dist/index.js")).href)
  const runs = []
  for (const variant of variants) {
    for (const writer of writers) {
      if (writer === "hand" && variant !== variants[0]) continue
      runs.push({ variant, writer })
    }
  }
  const results = new Map(runs.map((r) => [`${r.variant} ${r.writer}`, []]))
  console.log(
    `load: ${
      os.loadavg().map((l) => l.toFixed(2)).join(" ")
    }; ${records} x ${bytes} B, ${shards} shards, ${rounds} rounds`
  )
  for (let round = 0; round < rounds; round++) {
    const order = runs.map((_, i) => runs[(i + round) % runs.length])
    for (const { variant, writer } of order) {
      const server = await LocalServer.start({ streams: { bench: shards } })
      try {
        const task = {
          variant,
          writer,
          records,
          bytes,
          endpoint: server.endpoint,
          region: server.region,
          stream: "bench",
          shards,
          profile: profile !== undefined && round === 0
            ? path.join(profile, `${variant}-${writer}.cpuprofile`)
            : undefined
        }
        const result = await measure(task, nodeFlags)
        results.get(`${variant} ${writer}`).push(result)
        console.log(
          `round ${round + 1} ${variant} ${writer}: ${(result.cpuUs / records).toFixed(2)} us/record, ` +
            `${(result.elapsedMs / 1000).toFixed(2)} s, ${result.requests ?? "-"} requests, ` +
            `peak RSS ${(result.peakRss / 2 ** 20).toFixed(0)} MiB; ` +
            `threads ${
              Object.entries(result.threads ?? {}).filter(([, ms]) => ms > 0).map(([n, ms]) => `${n} ${ms}`).join(", ")
            } ms; ` +
            `load ${os.loadavg()[0].toFixed(2)}`
        )
      } finally {
        await server.close()
      }
    }
  }
  const hand = results.get(`${variants[0]} hand`)
  const handCpu = hand === undefined ? undefined : median(hand.map((r) => r.cpuUs / records))
  console.log("\nmedians (us CPU per record, x hand loop; s; peak RSS MiB):")
  for (const [name, list] of results) {
    const cpu = median(list.map((r) => r.cpuUs / records))
    const ratio = handCpu === undefined ? "" : ` (${(cpu / handCpu).toFixed(2)}x)`
    console.log(
      `${name.padEnd(28)} ${cpu.toFixed(2)}${ratio}  ${(median(list.map((r) => r.elapsedMs)) / 1000).toFixed(2)} s  ` +
        `${(median(list.map((r) => r.peakRss)) / 2 ** 20).toFixed(0)} MiB`
    )
  }
  console.log(`load: ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`)
}

const [command] = args
if (command === "child") {
  child(JSON.parse(args[1])).then(
    (result) => process.send(result, () => process.exit(0)),
    (error) => process.send({ error: error?.stack ?? String(error) }, () => process.exit(1))
  )
} else if (command === "snapshot") snapshot(args[1])
else if (command === "run") await run()
else {
  console.error("usage: cpu-per-record.mjs snapshot NAME | run [--variants a,b] [--writers ...] [--records N] ...")
  process.exit(2)
}
