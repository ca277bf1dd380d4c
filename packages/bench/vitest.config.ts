import { fileURLToPath } from "node:url"
import { defineProject, mergeConfig } from "vitest/config"
import { shared } from "../../vitest.shared.js"

// The Effect 4 line's driver from its source, as the other workspace packages: its `effect` is the root's Effect 4.
const effect4Driver = fileURLToPath(new URL("../bench-effect4/src/index.ts", import.meta.url))

export default mergeConfig(
  shared,
  defineProject({ resolve: { alias: { "@effect-kinesis/bench-effect4": effect4Driver } } })
)
