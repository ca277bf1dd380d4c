import { fileURLToPath } from "node:url"
import { defineProject, type Plugin } from "vitest/config"

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

// Effect, @effect/platform-node and @effect/vitest as this package has them (Effect 4), whoever imports them: the
// workspace's Effect 4 packages each hold a copy of effect of their own, and one program needs one.
const effectOfThisPackage: Plugin = {
  name: "effect-of-this-package",
  enforce: "pre",
  resolveId(source) {
    if (!/^(effect|@effect\/(vitest|platform-node))(\/|$)/.test(source)) return null
    return this.resolve(source, here("./src/index.ts"), { skipSelf: true })
  }
}

const source = (pkg: string) => here(`../${pkg}/src/index.ts`)

export default defineProject({
  plugins: [effectOfThisPackage],
  resolve: {
    alias: [
      { find: /^@effect-kinesis\/core$/, replacement: source("core") },
      { find: /^@effect-kinesis\/writer$/, replacement: source("writer") },
      { find: /^@effect-kinesis\/local$/, replacement: source("local") },
      { find: /^@effect-kinesis\/local-server$/, replacement: source("local-server") }
    ]
  },
  test: {
    name: "@effect-kinesis/cli",
    include: ["test/**/*.test.ts"],
    // The SDK's notice about the Node version it will stop supporting would fill every test's output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
