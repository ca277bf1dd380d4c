/**
 * The machine a run happened on, printed and saved with every result: figures mean nothing without it.
 */
import { execFileSync } from "node:child_process"
import * as os from "node:os"
import { fileURLToPath } from "node:url"

/** Where and when a run happened. */
export interface Machine {
  readonly date: string
  readonly cpu: string
  readonly cores: number
  readonly memoryGiB: number
  readonly node: string
  readonly platform: string
  /** One-minute load average when the run started: other work on a shared machine shows here. */
  readonly loadAverage: number
  /** The commit measured, with "+changes" when the writer's sources differed from it. */
  readonly revision: string
}

const repository = fileURLToPath(new URL("../../../", import.meta.url))

const git = (args: ReadonlyArray<string>): string | undefined => {
  try {
    return execFileSync("git", args, { cwd: repository, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()
  } catch {
    return undefined
  }
}

/** Describes this machine now. */
export const describe = (): Machine => {
  const cpus = os.cpus()
  return {
    date: new Date().toISOString(),
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadAverage: Math.round(os.loadavg()[0] * 100) / 100,
    revision: (git(["rev-parse", "--short", "HEAD"]) ?? "unknown") +
      (git(["status", "--porcelain", "--", "packages/writer/src"]) ? "+changes" : "")
  }
}
