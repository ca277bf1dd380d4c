/**
 * A V8 CPU profile of one span of this process (the one a measurement times), written as a `.cpuprofile` that
 * Chrome DevTools and `node --cpu-prof` tools read. Module loading and set-up stay out of it.
 */
import * as fs from "node:fs"
import * as inspector from "node:inspector/promises"
import * as path from "node:path"

/** Runs `span`, profiling it when `file` is given. */
export const profiled = async <A>(file: string | undefined, span: () => Promise<A>): Promise<A> => {
  if (file === undefined) return span()
  const session = new inspector.Session()
  session.connect()
  await session.post("Profiler.enable")
  // 100 us between samples, as `--cpu-prof-interval` would be set for short runs.
  await session.post("Profiler.setSamplingInterval", { interval: 100 })
  await session.post("Profiler.start")
  try {
    return await span()
  } finally {
    const { profile } = await session.post("Profiler.stop")
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, JSON.stringify(profile))
    session.disconnect()
  }
}

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
}

interface CpuProfile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

// Where a function comes from, so a profile reads as "the Effect runtime, the SDK, the writer, ..."
const origin = (url: string, name: string): string => {
  if (url === "") return name.startsWith("(") ? name : "native"
  if (url.includes("/node_modules/effect/")) return "effect runtime"
  if (url.includes("/packages/writer/")) return "writer"
  if (url.includes("/packages/core/")) return "core"
  if (/@aws-sdk|@smithy|\/aws-sdk\//.test(url)) return "aws sdk"
  if (url.includes("/packages/bench/")) return "bench"
  if (url.startsWith("node:")) return "node"
  return url.replace(/^.*node_modules\//, "").split("/")[0]
}

/** Self time of a `.cpuprofile` by origin, and its busiest functions: a first reading before DevTools. */
export const summarize = (file: string, top = 12): string => {
  const profile = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
  const byOrigin = new Map<string, number>()
  const byFunction = new Map<string, number>()
  let busy = 0
  profile.samples.forEach((id, i) => {
    const frame = nodes.get(id)!.callFrame
    const micros = profile.timeDeltas[i] ?? 0
    if (frame.functionName === "(idle)") return
    busy += micros
    const where = origin(frame.url, frame.functionName)
    byOrigin.set(where, (byOrigin.get(where) ?? 0) + micros)
    const name = `${frame.functionName || "(anonymous)"} ${frame.url.replace(/^.*\/(node_modules|packages)\//, "")}:${
      frame.lineNumber + 1
    }`
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros)
  })
  const share = ([name, micros]: [string, number]) =>
    `  ${((micros / busy) * 100).toFixed(1).padStart(5)}%  ${(micros / 1000).toFixed(0).padStart(6)} ms  ${name}`
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1])
  return [
    `${path.basename(file)}: ${(busy / 1000).toFixed(0)} ms busy`,
    ...sorted(byOrigin).map(share),
    "  busiest functions (self time):",
    ...sorted(byFunction).slice(0, top).map(share)
  ].join("\n")
}
