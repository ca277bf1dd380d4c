/**
 * What `kinesis-writer` says about itself: the page of `kinesis-writer --help` (the commands, the connection, the
 * exit statuses), each command's page from effect/cli's `HelpDoc` (one line per option, its description wrapped
 * beside it), and the lines that refuse a command line (each mistake, and where to read the options).
 *
 * Pure: documents in, text out.
 */
import type { CliError, HelpDoc } from "effect/cli"
import * as Option from "effect/Option"

/** How a page is drawn: its width, and whether headings are bold (a terminal that takes colors). */
export interface Style {
  readonly columns: number
  readonly bold: boolean
}

/** The style of a page written to a stream: bold and as wide as a terminal (at most 120 columns), else plain. */
export const styleFor = (
  stream: { readonly isTTY?: boolean | undefined; readonly columns?: number | undefined }
): Style => {
  const tty = stream.isTTY === true
  return {
    columns: tty ? Math.max(60, Math.min(120, stream.columns ?? 100)) : 100,
    bold: tty && process.env.NO_COLOR === undefined
  }
}

/** `text` cut into lines of at most `width` characters, at spaces (a word longer than that gets a line of its own). */
export const wrap = (text: string, width: number): Array<string> => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(/\s+/).filter((word) => word !== "")) {
    if (line === "") line = word
    else if (line.length + 1 + word.length <= width) line += ` ${word}`
    else {
      lines.push(line)
      line = word
    }
  }
  if (line !== "") lines.push(line)
  return lines
}

const heading = (style: Style, text: string) => (style.bold ? `\x1b[1m${text}\x1b[0m` : text)

const paragraph = (style: Style, text: string, indent = 2): Array<string> =>
  wrap(text, style.columns - indent).map((line) => " ".repeat(indent) + line)

// Terms on the left, their descriptions wrapped beside them; a term too long for the column gets a line of its own.
const table = (style: Style, rows: ReadonlyArray<readonly [string, string]>, maxTerm = 34): Array<string> => {
  const termWidth = Math.min(maxTerm, Math.max(...rows.map(([term]) => term.length)))
  const column = 2 + termWidth + 2
  const lines: Array<string> = []
  for (const [term, description] of rows) {
    const wrapped = wrap(description, Math.max(20, style.columns - column))
    if (term.length > termWidth) {
      lines.push(`  ${term}`)
      for (const line of wrapped) lines.push(" ".repeat(column) + line)
    } else {
      const [first = "", ...rest] = wrapped
      lines.push(`  ${term.padEnd(termWidth)}  ${first}`.trimEnd())
      for (const line of rest) lines.push(" ".repeat(column) + line)
    }
  }
  return lines
}

const section = (style: Style, title: string, body: ReadonlyArray<string>): Array<string> =>
  body.length === 0 ? [] : ["", heading(style, title), ...body]

// effect/cli adds "(choices: a, b)" to a description; the term already lists them when it names each one.
const withoutChoices = (description: string, term: string): string => {
  const choices = /\s*\(choices: ([^)]*)\)$/.exec(description)
  if (choices === null) return description
  const listed = choices[1].split(", ").every((choice) => term.includes(choice))
  return listed ? description.slice(0, choices.index) : description
}

const flagRow = (flag: HelpDoc.FlagDoc): readonly [string, string] => {
  const names = [...flag.aliases, `--${flag.name}`].join(", ")
  const term = flag.type === "boolean" ? names : `${names} ${flag.type}`
  return [term, withoutChoices(Option.getOrElse(flag.description, () => ""), term)]
}

/** The page of one command (`kinesis-writer put --help`): usage, description, arguments, options, subcommands. */
export const command = (doc: HelpDoc.HelpDoc, style: Style): string => {
  const args = (doc.args ?? []).map((arg): readonly [string, string] => [
    `${arg.name}${arg.variadic ? "..." : ""}`,
    Option.getOrElse(arg.description, () => "")
  ])
  const subcommands = (doc.subcommands ?? []).flatMap((group) =>
    group.commands.map((sub): readonly [string, string] => [sub.name, sub.shortDescription ?? sub.description])
  )
  const lines = [
    heading(style, "USAGE"),
    `  ${doc.usage.replace(" [flags]", doc.flags.length > 0 ? " [options]" : "")}`,
    ...(doc.description === "" ? [] : ["", ...paragraph(style, doc.description)]),
    ...section(style, "ARGUMENTS", args.length === 0 ? [] : table(style, args)),
    ...section(style, "OPTIONS", doc.flags.length === 0 ? [] : table(style, doc.flags.map(flagRow))),
    ...section(style, "COMMANDS", subcommands.length === 0 ? [] : table(style, subcommands))
  ]
  return lines.join("\n")
}

/** The page of `kinesis-writer --help`: each command in a line, the connection, the exit statuses. */
export const root = (version: string, style: Style): string => {
  const lines = [
    `kinesis-writer ${version} -- pipes newline-delimited records into a Kinesis data stream, and reads them back`,
    ...section(style, "USAGE", [
      "  kinesis-writer put --stream NAME|ARN [OPTIONS] [FILE...]",
      "  kinesis-writer get --stream NAME|ARN [--from trim-horizon|latest|at-timestamp] [--limit N] [--follow]",
      "  kinesis-writer local start|stop|status"
    ]),
    ...section(
      style,
      "COMMANDS",
      table(style, [
        [
          "put",
          "Writes newline-delimited records (--format json, text or base64) from files or standard input to the " +
          "stream: batched within every Kinesis limit, retried, paced per shard, memory bounded whatever the " +
          "input's size. Partition keys from a JSON field (--key-field user.id), one --key, or random. Progress on " +
          "standard error, redrawn in place on a terminal; a summary at the end. Bad lines are reported as " +
          "FILE:LINE and skipped (--strict: stop at the first). Ctrl-C stops reading and drains what was taken."
        ],
        [
          "get",
          "Reads the stream back, one line per record (aggregated records unpacked): --format text, base64, or " +
          "json with key, shard and sequence number; --follow keeps reading."
        ],
        [
          "local",
          "The embedded Kinesis behind --local: kinesalite with AWS's per-shard limits, in the background on " +
          "127.0.0.1, started by the first command that needs it; local stop ends it."
        ]
      ])
    ),
    ...section(
      style,
      "CONNECTION (put and get)",
      table(style, [
        ["--region REGION", "The AWS region (default: AWS_REGION, or the profile's)."],
        ["--profile NAME", "A profile of ~/.aws/config (default: AWS_PROFILE, then the SDK's credential chain)."],
        ["--endpoint URL", "A Kinesis endpoint of your own (LocalStack, kinesis-mock, effect-kinesis-local)."],
        ["--local", "The embedded Kinesis; put creates the stream (--shards, default 4). No AWS account needed."]
      ])
    ),
    ...section(
      style,
      "EXIT STATUS (put)",
      table(style, [
        ["0", "Every line was stored."],
        ["1", "Bad lines were skipped (or --strict stopped at one); every good line taken was stored."],
        ["2", "Records were not stored, or the run could not start (bad options, unreadable file, no stream)."],
        ["130", "Ctrl-C stopped the reading and every record taken was stored (143: SIGTERM)."]
      ])
    ),
    ...section(style, "MORE", [
      ...paragraph(
        style,
        "kinesis-writer put --help, get --help and local --help describe every option, the writer's included " +
          "(--linger, --max-in-flight, --max-batch-records, --ordered, ...; as in @effect-kinesis/writer)."
      ),
      "  kinesis-writer --version prints the version."
    ])
  ]
  return lines.join("\n")
}

/** What refuses a command line: each mistake, then where the options are described. */
export const refusal = (
  errors: ReadonlyArray<CliError.NonShowHelpErrors>,
  commandPath: ReadonlyArray<string>
): string =>
  [
    ...errors.map((error) => `kinesis-writer: ${error.message}`),
    `Run ${[...commandPath, "--help"].join(" ")} for the options.`
  ].join("\n")
