import { fileURLToPath } from "node:url"
import type { ViteUserConfig } from "vitest/config"

const source = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url))

/** Test settings every package shares: workspace packages resolve to their sources, so tests need no build. */
export const shared: ViteUserConfig = {
  resolve: {
    alias: {
      "@effect-kinesis/core": source("core"),
      "@effect-kinesis/writer": source("writer"),
      "@effect-kinesis/local": source("local"),
      "@effect-kinesis/local-server": source("local-server"),
      "@effect-kinesis/writer-effect3": source("writer-effect3"),
      "@effect-kinesis/local-effect3": source("local-effect3")
    }
  },
  test: {
    include: ["test/**/*.test.ts"],
    // The project runs on Node 20 on purpose; the AWS SDK's notice about Node 22 would fill every test's output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
}
