/**
 * The machine a run happened on, printed and saved with every result: figures mean nothing without it.
 */
import * as os from "node:os"

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
    loadAverage: Math.round(os.loadavg()[0] * 100) / 100
  }
}
