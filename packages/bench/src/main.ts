/**
 * `npm run bench`: every case of the plan, its writers in a rotating order, round after round; then the tables,
 * `results.json`, `chart.svg` and `README.md` in `docs/bench`, and the time it took. `--full` for the figures to
 * publish.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as Chart from "./Chart.js"
import type { CoreMeasured } from "./Core.js"
import { inChild, run, type RunResult, type RunSpec } from "./Harness.js"
import { type WriterName, writers } from "./Job.js"
import * as Machine from "./Machine.js"
import * as Profile from "./Profile.js"
import * as Report from "./Report.js"
import * as Results from "./Results.js"
import * as Scenarios from "./Scenarios.js"
import * as Stages from "./Stages.js"
import type { StagesMeasured } from "./Stages.js"
import { median, rotate } from "./Stats.js"
import * as Utilization from "./Utilization.js"

const usage = `usage: npm run bench -- [--full] [--only SCENARIO,...] [--writers a,b] [--rounds N] [--out DIR]
                          [--merge] [--profile DIR]
--full: the figures to publish (more records, rounds and writers; the cases with no target)
--writers: these writers in every case (default: each case's own)
--merge: keep the cases of DIR/results.json this run does not measure (with --only)
scenarios: ${Scenarios.scenarios.join(", ")}; groups: ${
  Object.entries(Scenarios.groups).map(([name, ids]) => `${name} (${ids.join(", ")})`).join(", ")
}
writers: ${writers.join(", ")}`

interface Args {
  readonly full: boolean
  readonly only: ReadonlyArray<Scenarios.ScenarioId> | undefined
  /** The writers named with `--writers`, run in every case; undefined: each case's own. */
  readonly writers: ReadonlyArray<WriterName> | undefined
  readonly rounds: number | undefined
  readonly out: string
  readonly profile: string | undefined
  readonly merge: boolean
}

const root = fileURLToPath(new URL("../../../", import.meta.url))

const parse = (argv: ReadonlyArray<string>): Args => {
  const args: { -readonly [K in keyof Args]: Args[K] } = {
    full: false,
    only: undefined,
    writers: undefined,
    rounds: undefined,
    out: path.join(root, "docs/bench"),
    profile: undefined,
    merge: false
  }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]
    const value = () => {
      const next = argv[++i]
      if (next === undefined) throw new Error(`${flag} needs a value\n${usage}`)
      return next
    }
    if (flag === "--full") args.full = true
    else if (flag === "--only") {
      const names = value().split(",").flatMap((name) => Scenarios.groups[name] ?? [name])
      const unknown = names.filter((name) => !(Scenarios.scenarios as ReadonlyArray<string>).includes(name))
      if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(", ")}\n${usage}`)
      args.only = names as Array<Scenarios.ScenarioId>
    } else if (flag === "--writers") {
      const names = value().split(",")
      const unknown = names.filter((name) => !(writers as ReadonlyArray<string>).includes(name))
      if (unknown.length > 0) throw new Error(`unknown writer(s) ${unknown.join(", ")}\n${usage}`)
      args.writers = names as Array<WriterName>
    } else if (flag === "--rounds") args.rounds = Number(value())
    else if (flag === "--out") args.out = path.resolve(value())
    else if (flag === "--profile") args.profile = path.resolve(value())
    else if (flag === "--merge") args.merge = true
    else if (flag === "--help" || flag === "-h") {
      console.log(usage)
      process.exit(0)
    } else throw new Error(`unknown option ${flag}\n${usage}`)
  }
  return args
}

// The same seed for every writer of a round: each meets the same sequence of random throttling draws.
const localOptions = (testCase: Scenarios.Case, round: number): RunSpec["local"] => ({
  limits: testCase.limits,
  ...(testCase.throttle > 0 || testCase.faults !== undefined ?
    { faults: { throttle: testCase.throttle, ...testCase.faults }, seed: round + 1 } :
    {})
})

// Under random refusals a writer that slows to its floor takes far longer than its peers: its time is the figure.
const expectedSeconds = (testCase: Scenarios.Case) =>
  testCase.faults !== undefined ?
    testCase.records / 1_000 :
    testCase.offerSeconds !== undefined ?
    testCase.offerSeconds + 5 :
    testCase.ratePerSecond === undefined ?
    testCase.records / 5_000 :
    testCase.records * testCase.processes /
    Math.min(testCase.ratePerSecond * testCase.processes, testCase.shards * Scenarios.SHARD_RECORDS_PER_SECOND)

const pct = (share: number) => Number.isFinite(share) ? `${(share * 100).toFixed(1)}%` : "n/a"

// What the progress line says of a gauged run: the stream's use, as the tables will show it.
const usedNote = (testCase: Scenarios.Case, result: RunResult) => {
  if (testCase.gauge === undefined || result.measured === undefined) return ""
  const window = { from: result.measured.offeredFromMs, until: result.measured.offeredUntilMs }
  const used = Utilization.measure(testCase, result.server.seconds, window, result.split, result.userBytes)
  const refused = result.server.offered === 0 ? 0 : result.server.refused / result.server.offered
  const split = used.splitToCapacitySeconds === undefined ?
    "" :
    `, new shards at capacity after ${used.splitToCapacitySeconds.toFixed(1)} s`
  return `  capacity ${pct(used.capacityShare)}, refused ${pct(refused)}${split}`
}

const main = async () => {
  // The SDK's notice that Node 20 support ends some day would be printed in the middle of the tables.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true"
  const args = parse(process.argv.slice(2))
  const machine = Machine.describe()
  const base = Scenarios.plan(args.full ? "full" : "quick")
  const included = (id: Scenarios.ScenarioId) => args.only === undefined || args.only.includes(id)
  const plan: Scenarios.Plan = {
    ...base,
    cases: base.cases.filter((c) => included(c.scenario)).map((c) => ({ ...c, rounds: args.rounds ?? c.rounds })),
    core: { ...base.core, rounds: args.rounds ?? base.core.rounds, stageRounds: args.rounds ?? base.core.stageRounds }
  }
  if (args.profile !== undefined) fs.mkdirSync(args.profile, { recursive: true })
  console.log(`bench (${plan.mode}) on ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}`)
  const started = performance.now()

  const runs: Array<Results.Run> = []
  for (const [index, testCase] of plan.cases.entries()) {
    for (let round = 0; round < testCase.rounds; round++) {
      const results: Array<RunResult> = []
      const mine = args.writers ?? [...testCase.writers, ...(round === 0 ? testCase.onceWriters ?? [] : [])]
      for (const writer of rotate(mine, round + index)) {
        const result = await run(writer, {
          records: testCase.records,
          hotKeyShare: testCase.hotKeyShare,
          processes: testCase.processes,
          splitAfterMs: testCase.splitAfterSeconds === undefined ? undefined : testCase.splitAfterSeconds * 1000,
          offerMs: testCase.offerSeconds === undefined ? undefined : testCase.offerSeconds * 1000,
          recordBytes: testCase.recordBytes,
          shards: testCase.shards,
          ratePerSecond: testCase.ratePerSecond,
          concurrency: plan.concurrency,
          maxSockets: plan.maxSockets,
          local: localOptions(testCase, round),
          fork: { timeoutMs: Math.max(30_000, expectedSeconds(testCase) * 10_000) },
          profile: args.profile === undefined ?
            undefined :
            path.join(args.profile, `${testCase.id}-${writer}-${round + 1}.cpuprofile`)
        })
        results.push(result)
        const rate = result.measured === undefined ?
          "-" :
          `${Math.round(result.records / (result.measured.elapsedMs / 1000)).toLocaleString("en-US")} rec/s`
        const status = result.error !== undefined ?
          `FAILED ${result.error.split("\n")[0]}` :
          result.tally.missing > 0
          ? `LOST ${result.tally.missing}`
          : "ok"
        const where = `${testCase.id} round ${round + 1}/${testCase.rounds}`
        console.log(`  ${where} ${writer.padEnd(22)} ${rate.padStart(14)}  ${status}${usedNote(testCase, result)}`)
      }
      runs.push(...Results.flatten(testCase, round, results))
    }
  }

  const core = included("core") ? await measureCore(plan, args.profile) : undefined
  const related = Results.relate(runs)
  const measured: Results.Results = {
    machine,
    plan,
    runs: related,
    summaries: Results.summarize(plan.cases, related),
    core,
    elapsedSeconds: Math.round((performance.now() - started) / 1000),
    loadAverageAtEnd: Math.round(os.loadavg()[0] * 100) / 100
  }
  const previous = path.join(args.out, "results.json")
  const results = args.merge && fs.existsSync(previous) ?
    Results.merge(JSON.parse(fs.readFileSync(previous, "utf8")) as Results.Results, measured) :
    measured
  fs.mkdirSync(args.out, { recursive: true })
  fs.writeFileSync(path.join(args.out, "results.json"), JSON.stringify(results, null, 2) + "\n")
  fs.writeFileSync(path.join(args.out, "chart.svg"), Chart.svg(results))
  fs.writeFileSync(path.join(args.out, "README.md"), Report.report(results, "md"))
  console.log("")
  console.log(Report.report(results, "text"))
  if (args.profile !== undefined) {
    console.log(`\nCPU profiles of the measured spans, in ${args.profile} (open them in Chrome DevTools):`)
    for (const file of fs.readdirSync(args.profile).filter((name) => name.endsWith(".cpuprofile")).sort()) {
      console.log(Profile.summarize(path.join(args.profile, file)))
    }
  }
  const elapsed = Math.round((performance.now() - started) / 1000)
  console.log(
    `\n${Math.floor(elapsed / 60)} min ${elapsed % 60} s (${plan.mode}); load average ${
      os.loadavg().map((load) => load.toFixed(2)).join(" ")
    } at the end; wrote results.json, chart.svg and README.md to ${args.out}`
  )
}

// The pure core (records/s on one core), then where the writer's CPU per record goes, stage by stage: one child
// process per round.
const measureCore = async (plan: Scenarios.Plan, profile: string | undefined): Promise<Results.CoreResult> => {
  const measured: Array<CoreMeasured> = []
  const errors: Array<string> = []
  for (let round = 0; round < plan.core.rounds; round++) {
    const outcome = await inChild<CoreMeasured>(
      {
        _tag: "Core",
        records: plan.core.records,
        bytes: plan.core.recordBytes,
        profile: profile === undefined ? undefined : path.join(profile, `core-${round + 1}.cpuprofile`)
      },
      { timeoutMs: 120_000 }
    )
    if (outcome._tag === "Done") measured.push(outcome.value)
    else errors.push(outcome.error.split("\n")[0])
    const rate = outcome._tag === "Done" ?
      `${Math.round(outcome.value.recordsPerSecond).toLocaleString("en-US")} rec/s` :
      "FAILED"
    console.log(`  core round ${round + 1}/${plan.core.rounds} ${rate}`)
  }
  const stageRuns: Array<StagesMeasured> = []
  for (let round = 0; round < plan.core.stageRounds; round++) {
    const outcome = await inChild<StagesMeasured>(
      { _tag: "Stages", records: plan.core.stageRecords, bytes: plan.core.recordBytes },
      { timeoutMs: 300_000 }
    )
    if (outcome._tag === "Done") stageRuns.push(outcome.value)
    else errors.push(outcome.error.split("\n")[0])
    console.log(
      `  stages round ${round + 1}/${plan.core.stageRounds} ${
        outcome._tag === "Done" ?
          outcome.value.map((s) => `${s.stage} ${s.cpuMicros.toFixed(2)}`).join(", ") + " us/rec" :
          "FAILED"
      }`
    )
  }
  return {
    path: "production",
    runs: measured,
    recordsPerSecond: median(measured.map((m) => m.recordsPerSecond)),
    errors,
    stages: stageRuns.length === 0 ? undefined : Stages.stages.map((stage) => {
      const runs = stageRuns.map((run) => run.find((s) => s.stage === stage)!.cpuMicros)
      return { stage, cpuMicros: median(runs), runs }
    }),
    stageRecords: plan.core.stageRecords
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack ?? error.message : error)
  process.exit(1)
})
