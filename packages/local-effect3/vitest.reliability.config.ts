// The long reliability runs (`npm run test:reliability`): 100,000 records under faults, 30 seconds of overload
// with memory measured, and many more property runs. One file at a time, so that no run's timing or memory
// figures include another's.
import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"
import { shared } from "../../vitest.shared.js"

export default defineConfig({
  ...shared,
  root: fileURLToPath(new URL(".", import.meta.url)),
  test: {
    ...shared.test,
    include: ["test/reliability/**/*.reliability.ts", "test/Properties.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    // A collection before the memory baseline, so that it is the program's and not the garbage's.
    poolOptions: { forks: { execArgv: ["--expose-gc"] } },
    env: { ...shared.test?.env, RELIABILITY_PROPERTY_RUNS: "100" }
  }
})
