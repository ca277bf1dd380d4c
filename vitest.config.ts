import { defineConfig } from "vitest/config"
import projects from "./vitest.workspace.js"

// vitest 5 no longer reads vitest.workspace.ts by itself: the list is the design's, read here.
export default defineConfig({ test: { projects } })
