// One vitest project per package; each package's vitest.config.ts maps workspace imports to sources.
export default ["packages/*/vitest.config.ts"]
