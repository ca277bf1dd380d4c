#!/usr/bin/env node
// Type-checks every ```ts block of the READMEs against the packages as built (`tsc -b` first), so that no
// snippet can rot: one module per block, strict with exactOptionalPropertyTypes, errors named by README and line.
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
// Each block is checked against the Effect line it names: inside the node_modules of a package of that line, so that
// `effect` resolves to that line's Effect and `@effect-kinesis/*` to the workspace packages (their dist).
const lines = {
  effect4: join(root, "node_modules", ".cache", "docs-check"),
  effect3: join(root, "packages", "writer-effect3", "node_modules", ".cache", "docs-check")
}
// A block is of the Effect 3 line when its fence says so (```ts effect3) or it imports a package of that line.
const effect3Packages = /from "@effect-kinesis\/(writer-effect3|local-effect3)"/
const lineOf = (block) => (block.info.includes("effect3") || effect3Packages.test(block.code) ? "effect3" : "effect4")

const readmes = [
  "README.md",
  ...readdirSync(join(root, "packages")).map((name) => join("packages", name, "README.md"))
].filter((path) => existsSync(join(root, path)))

const blocks = []
for (const readme of readmes) {
  const readmeLines = readFileSync(join(root, readme), "utf8").split("\n")
  let open
  readmeLines.forEach((line, index) => {
    const fence = /^```(\S*)(.*)$/.exec(line)
    if (fence === null) return
    if (open === undefined) open = { language: fence[1], info: fence[2].trim(), index }
    else {
      if (open.language === "ts" || open.language === "typescript") {
        blocks.push({
          readme,
          info: open.info,
          firstLine: open.index + 2,
          code: readmeLines.slice(open.index + 1, index).join("\n")
        })
      }
      open = undefined
    }
  })
  if (open !== undefined) {
    console.error(`${readme}:${open.index + 1}: a code block is never closed`)
    process.exit(1)
  }
}

let failed = false
for (const [line, out] of Object.entries(lines)) {
  const mine = blocks.filter((block) => lineOf(block) === line)
  if (mine.length === 0) continue
  failed = !check(mine, out) || failed
}
if (failed) process.exit(1)

function check(blocks, out) {
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out, { recursive: true })
  const byFile = new Map()
  for (const block of blocks) {
    const file = `${block.readme.replace(/[/\\.]/g, "_")}_L${block.firstLine}.ts`
    byFile.set(file, block)
    // `export {}` makes each block a module of its own, so two blocks may declare the same names.
    writeFileSync(join(out, file), `${block.code}\nexport {}\n`)
  }
  writeFileSync(join(out, "package.json"), JSON.stringify({ type: "module", private: true }))
  writeFileSync(
    join(out, "tsconfig.json"),
    JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          lib: ["ES2023"],
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          exactOptionalPropertyTypes: true,
          noImplicitOverride: true,
          noFallthroughCasesInSwitch: true,
          skipLibCheck: true,
          noEmit: true,
          types: ["node"]
        },
        files: [...byFile.keys()]
      },
      null,
      2
    )
  )

  const tscBin = join(root, "node_modules", "typescript", "bin", "tsc")
  const tsc = spawnSync(process.execPath, [tscBin, "-p", out, "--pretty", "false"], { encoding: "utf8" })
  const output = `${tsc.stdout}${tsc.stderr}`
  if (tsc.status !== 0) {
    // tsc names the extracted file: name the README and its line instead.
    for (const line of output.split("\n")) {
      const at = /^(?:.*[/\\])?([^/\\(]+\.ts)\((\d+),(\d+)\): (.*)$/.exec(line)
      const block = at === null ? undefined : byFile.get(at[1])
      if (block === undefined) {
        if (line.trim() !== "") console.error(line)
        continue
      }
      console.error(`${block.readme}:${block.firstLine + Number(at[2]) - 1}:${at[3]}: ${at[4]}`)
    }
    console.error(`docs: the ts blocks of the READMEs do not type-check (extracted to ${out})`)
    return false
  }
  return true
}
const counts = Object.keys(lines).map((line) => `${blocks.filter((block) => lineOf(block) === line).length} ${line}`)
console.log(`docs: ${blocks.length} ts blocks (${counts.join(", ")}) in ${readmes.join(", ")} type-check`)
