import { describe, expect, it } from "@effect/vitest"
import { CliError, type HelpDoc } from "effect/cli"
import * as Context from "effect/Context"
import * as Option from "effect/Option"
import * as Help from "../src/Help.js"

const plain: Help.Style = { columns: 60, bold: false }

const flag = (name: string, type: string, description: string, aliases: ReadonlyArray<string> = []) => ({
  name,
  aliases,
  type,
  description: Option.some(description),
  required: false
})

const doc: HelpDoc.HelpDoc = {
  description: "Reads records from files or standard input and writes them to a stream.",
  usage: "kinesis-writer put [flags] [<FILE...>]",
  flags: [
    flag("stream", "NAME|ARN", "The stream.", ["-s"]),
    flag("format", "json | text", "How lines are read. (choices: json, text)"),
    flag("strict", "boolean", "Stop at the first bad line, what was read before it is still sent to the stream.")
  ],
  annotations: Context.empty(),
  args: [{ name: "FILE", type: "string", description: Option.some("Files."), required: false, variadic: true }]
}

describe("Help", () => {
  it("wraps text at spaces within the width", () => {
    expect(Help.wrap("one two three four five", 9)).toEqual(["one two", "three", "four five"])
    expect(Help.wrap("a verylongword b", 4)).toEqual(["a", "verylongword", "b"])
  })

  it("draws a command's page: usage, description, arguments and one option a line, wrapped beside it", () => {
    const page = Help.command(doc, plain)
    expect(page.split("\n")).toEqual([
      "USAGE",
      "  kinesis-writer put [options] [<FILE...>]",
      "",
      "  Reads records from files or standard input and writes them",
      "  to a stream.",
      "",
      "ARGUMENTS",
      "  FILE...  Files.",
      "",
      "OPTIONS",
      "  -s, --stream NAME|ARN  The stream.",
      "  --format json | text   How lines are read.",
      "  --strict               Stop at the first bad line, what",
      "                         was read before it is still sent to",
      "                         the stream."
    ])
  })

  it("makes headings bold only when told", () => {
    expect(Help.command(doc, { columns: 60, bold: true })).toContain("\x1b[1mOPTIONS\x1b[0m")
    expect(Help.root("1.2.3", plain)).not.toContain("\x1b[")
    expect(Help.root("1.2.3", plain)).toContain("kinesis-writer 1.2.3")
  })

  it("refuses a command line with each mistake and where the options are", () => {
    const unknown = new CliError.UnrecognizedOption({
      option: "--lingr",
      command: ["kinesis-writer", "put"],
      suggestions: ["--linger"]
    })
    const text = Help.refusal([unknown], ["kinesis-writer", "put"])
    expect(text).toContain("kinesis-writer: Unrecognized flag: --lingr")
    expect(text).toContain("--linger")
    expect(text.split("\n").at(-1)).toBe("Run kinesis-writer put --help for the options.")
  })
})
