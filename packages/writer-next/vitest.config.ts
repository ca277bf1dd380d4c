import { fileURLToPath } from "node:url"
import { defineProject, type Plugin } from "vitest/config"

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

// Effect and @effect/vitest as this package has them (Effect 4), whoever imports them: the shared tests live
// where a bare import would find the other line's.
const effectOfThisLine: Plugin = {
  name: "effect-of-this-line",
  enforce: "pre",
  resolveId(source) {
    if (!/^(effect|@effect\/vitest)(\/|$)/.test(source)) return null
    return this.resolve(source, here("./test/support/line.ts"), { skipSelf: true })
  }
}

// The writer's tests shared by both Effect lines live beside the Effect 3 writer for now; this project runs them
// against the Effect 4 writer, with this line's `line.ts` and Effect 4 itself, and this line's own tests beside them.
export default defineProject({
  plugins: [effectOfThisLine],
  resolve: {
    alias: [
      { find: /^(\.\/|.*\/support\/)line\.js$/, replacement: here("./test/support/line.ts") },
      { find: /^@effect-kinesis\/writer$/, replacement: here("./src/index.ts") },
      { find: /^@effect-kinesis\/core$/, replacement: here("../core/src/index.ts") },
      { find: /^@effect-kinesis\/local$/, replacement: here("../local-next/src/index.ts") },
      { find: /^@effect-kinesis\/local-server$/, replacement: here("../local-server/src/index.ts") }
    ]
  },
  test: {
    name: "@effect-kinesis/writer-next",
    root: here("../writer/test"),
    include: [
      "KinesisWriter.test.ts",
      "Pacing.test.ts",
      "Warnings.test.ts",
      "Integration.test.ts",
      "EnqueueAll.test.ts",
      "Liveness.test.ts",
      "AggregatedWriting.test.ts",
      "ShardMaps.test.ts",
      "Kinesis.test.ts",
      "Retry.test.ts",
      // This line's own tests: of the Effect APIs that differ between the lines (metrics, tracing, config, schedules).
      "../../writer-next/test/**/*.test.ts"
    ],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
