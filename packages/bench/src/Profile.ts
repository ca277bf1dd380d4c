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
