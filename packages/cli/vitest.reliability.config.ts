// The long runs of the command line (`npm run test:reliability`): 200,000 lines through `put --checkpoint`, killed
// and run again.
import { defineProject } from "vitest/config"
import project from "./vitest.config.js"

export default defineProject({
  ...project,
  test: { ...project.test, name: "@effect-kinesis/cli reliability", include: ["test/reliability/**/*.reliability.ts"] }
})
