import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

const project = (name: string) => fileURLToPath(new URL(`../${name}/vitest.config.ts`, import.meta.url))

// The Effect 3 line's test projects, run by this package's vitest 3.2 (with @effect/vitest 0.30 and effect 3):
// `npm test` runs them on the Node that runs npm (20 on the machines here).
export default defineConfig({
  test: { projects: [project("writer-effect3"), project("local-effect3"), project("bench")] }
})
