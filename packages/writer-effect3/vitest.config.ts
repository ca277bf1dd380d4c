import { fileURLToPath } from "node:url"
import { defineProject, mergeConfig, type Plugin } from "vitest/config"
import { shared } from "../../vitest.shared.js"

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

// The tests both lines share live with the Effect 4 writer (packages/writer/test): here they run against this
// writer, with this line's `support/line.ts`, and Effect 3 for whoever imports Effect.
const sharedTests = [
  "KinesisWriter",
  "Pacing",
  "Warnings",
  "Integration",
  "EnqueueAll",
  "Liveness",
  "AggregatedWriting",
  "ShardMaps",
  "Kinesis",
  "Retry",
  "ErrorsJson",
  "NotKinesis"
].map((name) => here(`../writer/test/${name}.test.ts`))

const effectOfThisLine: Plugin = {
  name: "effect-of-this-line",
  enforce: "pre",
  resolveId(source) {
    if (!/^(effect|@effect\/vitest)(\/|$)/.test(source)) return null
    return this.resolve(source, here("./test/support/line.ts"), { skipSelf: true })
  }
}

export default mergeConfig(
  shared,
  defineProject({
    plugins: [effectOfThisLine],
    resolve: {
      alias: [
        { find: /^(\.\/|.*\/support\/)line\.js$/, replacement: here("./test/support/line.ts") },
        { find: /^@effect-kinesis\/writer$/, replacement: here("./src/index.ts") },
        // A shared test that reaches into the writer's modules reaches into this one's.
        { find: /^\.\.\/src\/(.*)\.js$/, replacement: here("./src/$1.ts") },
        { find: /^@effect-kinesis\/local$/, replacement: here("../local-effect3/src/index.ts") }
      ]
    },
    test: { name: "@effect-kinesis/writer-effect3", include: ["test/**/*.test.ts", ...sharedTests] }
  })
)
