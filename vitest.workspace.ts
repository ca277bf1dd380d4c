// The test projects of the Effect 4 line and of the packages without Effect, run by the root `vitest run` (vitest 5,
// which reads this list through vitest.config.ts). The Effect 3 line's projects run under their own vitest 3.2:
// see packages/writer-effect3/vitest.effect3.config.ts.
export default [
  "packages/core/vitest.config.ts",
  "packages/local-server/vitest.config.ts",
  "packages/writer/vitest.config.ts",
  "packages/cli/vitest.config.ts"
]
