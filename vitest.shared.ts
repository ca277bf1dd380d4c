import { fileURLToPath } from "node:url"
import type { ViteUserConfig } from "vitest/config"

const source = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url))

/** Test settings every package shares: workspace packages resolve to their sources, so tests need no build. */
export const shared: ViteUserConfig = {
  resolve: {
    alias: {
      "@effect-kinesis/writer": source("writer"),
      "@effect-kinesis/local": source("local")
    }
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
}
