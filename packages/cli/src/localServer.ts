/**
 * The background process of `--local` (see `Local.ts`): the embedded Kinesis with AWS's limits, until SIGTERM,
 * SIGINT, or `idleMillis` without a request. Started by `Local.ensure` with `{"home":DIR,"idleMillis":N}`; writes
 * its state file once it serves, and removes it when it stops.
 */
import { LocalKinesis } from "@effect-kinesis/local"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Local from "./Local.js"

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true"

const { home, idleMillis } = JSON.parse(process.argv[2] ?? "{}") as { home: string; idleMillis: number }

// Any request through the proxy counts as use: writes, reads, stream creation.
const requestCount = (local: LocalKinesis.Service) =>
  Effect.map(local.proxy.counters, (counters) => Object.values(counters.requests).reduce((a, b) => a + b, 0))

const main = Effect.gen(function*() {
  const local = yield* LocalKinesis.make({ limits: true })
  yield* Effect.addFinalizer(() => Effect.sync(() => Local.removeState(home, process.pid)))
  Local.writeState(home, { pid: process.pid, endpoint: local.endpoint, region: local.region, idleMillis })
  console.log(`${new Date().toISOString()} serving at ${local.endpoint} (pid ${process.pid})`)
  let seen = yield* requestCount(local)
  let lastUse = Date.now()
  while (Date.now() - lastUse < idleMillis) {
    yield* Effect.sleep(Math.min(5_000, Math.max(50, idleMillis / 10)))
    const count = yield* requestCount(local)
    if (count !== seen) {
      seen = count
      lastUse = Date.now()
    }
  }
  console.log(`${new Date().toISOString()} idle for ${idleMillis} ms: stopping`)
}).pipe(Effect.scoped)

const fiber = Effect.runFork(main)
for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => Effect.runFork(Fiber.interrupt(fiber)))
fiber.addObserver((exit) => {
  if (exit._tag === "Failure" && !Cause.hasInterruptsOnly(exit.cause)) {
    console.error(Cause.pretty(exit.cause))
    process.exitCode = 1
  }
})
