import { defineProject, mergeConfig } from "vitest/config"
import { shared } from "../../vitest.shared.js"

// The writer's tests: most are shared with the Effect 3 line, which runs them with its own `support/line.ts` (see
// packages/writer-effect3/vitest.config.ts); the rest test the Effect 4 APIs (metrics, tracing, config, schedules).
export default mergeConfig(shared, defineProject({ test: { name: "@effect-kinesis/writer" } }))
