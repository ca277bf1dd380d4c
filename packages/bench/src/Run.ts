/**
 * One run of one writer in this process: set the writer up, offer the records, measure time, CPU and memory.
 */
import * as fs from "node:fs"
import * as v8 from "node:v8"
import type { Job, Measured, WriterName } from "./Job.js"
import * as Offer from "./Offer.js"
import { profiled } from "./Profile.js"
import type { Writer } from "./writers/Writer.js"

// Each writer's module is loaded on its own, so no writer carries another's libraries in its baseline memory.
const load = async (name: WriterName): Promise<Writer> => {
  switch (name) {
    case "hand-loop":
      return (await import("./writers/HandLoop.js")).prepare
    case "effect-kinesis":
      return (await import("./writers/EffectKinesis.js")).defaults
    case "effect-kinesis-effect3":
      return (await import("./writers/EffectKinesisEffect3.js")).defaults
    case "effect-kinesis-blind":
      return (await import("./writers/EffectKinesis.js")).blind
    case "effect-kinesis-aggregated":
      return (await import("./writers/EffectKinesis.js")).aggregated
    case "effect-kinesis-tuned":
      return (await import("./writers/EffectKinesis.js")).tunedWriter
    case "effect-kinesis-sink":
      return (await import("./writers/EffectKinesis.js")).sink
    case "effect-kinesis-all":
      return (await import("./writers/EffectKinesis.js")).all
    case "shutterstock":
      return (await import("./writers/Shutterstock.js")).prepare
    case "aws-kinesis-writable":
      return (await import("./writers/AwsKinesisWritable.js")).prepare
    case "naive-port":
      return (await import("./writers/NaivePort.js")).prepare
  }
}

/**
 * The most RSS this process has had. On Linux, `VmHWM` of this process's own memory map: `maxRSS` (getrusage)
 * would carry over the parent's RSS at `fork`, so every child would show at least the orchestrator's size.
 */
const peakRss = (): number => {
  try {
    const kib = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"))?.[1]
    if (kib !== undefined) return Number(kib) * 1024
  } catch {
    // Not Linux: getrusage is what there is.
  }
  return process.resourceUsage().maxRSS * 1024
}

/**
 * Runs one job in this process and measures it. Before the first record is offered it waits for `ready`: writers
 * sharing a stream start offering together.
 */
export const runJob = async (job: Job, ready: () => Promise<void> = async () => {}): Promise<Measured> => {
  const prepared = await (await load(job.writer))(job)
  const probe = new Offer.Probe()
  const offer = Offer.make(job.records, job.recordBytes, job.ratePerSecond, probe, {
    firstIndex: job.firstIndex ?? 0,
    hotKeyShare: job.hotKeyShare ?? 0,
    offerMs: job.offerMs
  })
  // The baseline holds the writer's libraries and the prepared records, as every peak does.
  globalThis.gc?.()
  const baseline = process.memoryUsage()
  const baselineHeap = v8.getHeapStatistics()
  await ready()
  probe.start()
  const cpu = process.cpuUsage()
  const start = performance.now()
  const { reportedFailed } = await profiled(job.profile, () => prepared.run(offer))
  const elapsedMs = performance.now() - start
  const used = process.cpuUsage(cpu)
  const halfway = offer.halfwayCpu()
  const sinceHalfway = halfway === undefined ? undefined : process.cpuUsage(halfway)
  probe.stop()
  await prepared.close()
  return {
    elapsedMs,
    cpuMs: (used.user + used.system) / 1000,
    secondHalf: sinceHalfway === undefined ?
      undefined :
      { cpuMs: (sinceHalfway.user + sinceHalfway.system) / 1000, records: job.records - Math.floor(job.records / 2) },
    baselineRssBytes: baseline.rss,
    baselineHeapBytes: baselineHeap.used_heap_size + baselineHeap.external_memory,
    peakRssBytes: peakRss(),
    peakHeapBytes: probe.peakHeap,
    offered: offer.offered(),
    reportedFailed,
    offeredFromMs: offer.window().from,
    offeredUntilMs: offer.window().until
  }
}
