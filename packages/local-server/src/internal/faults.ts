/**
 * The fault plan: checking it, and drawing from it which faults a request and each of its records meet. The
 * draws come from a seeded generator, so that the same plan and seed fail the same requests and records.
 */
import { seeded } from "./random.js"
import type { Chance, DelayFault, ErrorFault, FaultPlan, IndexFault, RecordErrorCode } from "./types.js"

/** The faults of which at most one happens to a request. */
export type RequestFault = "serverError" | "error" | "hang" | "resetBeforeForward" | "resetAfterForward"

/** The request faults, in the order their rates are laid end to end for one draw. */
export const requestFaults: ReadonlyArray<RequestFault> = [
  "serverError",
  "error",
  "hang",
  "resetBeforeForward",
  "resetAfterForward"
]

/** The faults a record can meet, by the plan field that asks for them. */
export type RecordFaultKind = "throttle" | "internalFailure" | "failIndexes"

/** A record failed by the plan: why, and the error code it is answered with. */
export interface RecordFault {
  readonly kind: RecordFaultKind
  readonly code: RecordErrorCode
}

/** What happens to one request, decided when its body has arrived. */
export interface Decision {
  readonly fault: RequestFault | undefined
  readonly delayMillis: number | undefined
  readonly failIndexes: IndexFault | undefined
  /** The error to answer with, as the plan said when the request came (the plan may change during a delay). */
  readonly error: ErrorFault | undefined
}

/** A fault plan in force, with its random sequence and how often each fault with `times` has happened. */
export interface Faults {
  /** The plan in force. */
  readonly plan: () => FaultPlan
  /** Puts `plan` in force; a plan with a seed starts its random sequence again. */
  readonly set: (plan: FaultPlan) => void
  /** The faults of one request, or undefined when the plan does not apply to its operation and stream. */
  readonly decide: (operation: string, stream: string | undefined) => Decision | undefined
  /** Whether the records of a request so decided may meet faults, so that each must be looked at. */
  readonly touchesRecords: (decision: Decision | undefined) => boolean
  /** The fault the record at `index` of a request meets, if any. */
  readonly recordFault: (decision: Decision | undefined, index: number) => RecordFault | undefined
}

const defaultOperations: ReadonlyArray<string> = ["PutRecords", "PutRecord"]
const recordCodes = new Set(["ProvisionedThroughputExceededException", "InternalFailure"])

const rateOf = (chance: Chance | ErrorFault | DelayFault | undefined): number =>
  chance === undefined ? 0 : typeof chance === "number" ? chance : chance.rate ?? 1

const timesOf = (chance: Chance | ErrorFault | DelayFault | undefined) =>
  typeof chance === "object" ? chance.times : undefined

const isFraction = (value: unknown): boolean => typeof value === "number" && value >= 0 && value <= 1

/** Every problem with a fault plan, one sentence each. */
export const checkPlan = (plan: FaultPlan): Array<string> => {
  const problems: Array<string> = []
  if (typeof plan !== "object" || plan === null) return ["the fault plan must be an object"]
  const fraction = (name: string, value: unknown) => {
    if (value !== undefined && !isFraction(value)) {
      problems.push(`${name} must be a fraction from 0 to 1, not ${String(value)}`)
    }
  }
  const times = (name: string, value: unknown) => {
    if (value !== undefined && !(typeof value === "number" && Number.isInteger(value) && value >= 0)) {
      problems.push(`${name}.times must be a whole number, not ${String(value)}`)
    }
  }
  fraction("throttle", plan.throttle)
  fraction("internalFailure", plan.internalFailure)
  if ((plan.throttle ?? 0) + (plan.internalFailure ?? 0) > 1) {
    problems.push("throttle + internalFailure must not exceed 1")
  }
  if (plan.failIndexes !== undefined) {
    const { code, indexes } = plan.failIndexes
    if (!Array.isArray(indexes) || !indexes.every((i) => Number.isInteger(i) && i >= 0)) {
      problems.push("failIndexes.indexes must be positions from 0")
    }
    if (code !== undefined && !recordCodes.has(code)) {
      problems.push(`failIndexes.code must be ProvisionedThroughputExceededException or InternalFailure, not ${code}`)
    }
    times("failIndexes", plan.failIndexes.times)
  }
  let total = 0
  for (const kind of requestFaults) {
    const chance = plan[kind]
    if (chance === undefined) continue
    fraction(typeof chance === "number" ? kind : `${kind}.rate`, rateOf(chance))
    times(kind, timesOf(chance))
    total += rateOf(chance)
  }
  if (total > 1 + 1e-9) {
    problems.push(`the rates of the request faults add up to ${total}; at most one happens per request`)
  }
  if (plan.error !== undefined) {
    if (typeof plan.error.type !== "string" || plan.error.type === "") problems.push("error.type must name an error")
    const status = plan.error.status
    if (status !== undefined && !(Number.isInteger(status) && status >= 400 && status <= 599)) {
      problems.push(`error.status must be an HTTP error status (400 to 599), not ${String(status)}`)
    }
  }
  if (plan.delay !== undefined) {
    if (!(typeof plan.delay.millis === "number" && plan.delay.millis >= 0 && Number.isFinite(plan.delay.millis))) {
      problems.push(`delay.millis must be a number of milliseconds, not ${String(plan.delay.millis)}`)
    }
    fraction("delay.rate", rateOf(plan.delay))
    times("delay", plan.delay.times)
  }
  for (const name of ["operations", "streams"] as const) {
    const list = plan[name]
    if (list !== undefined && !(Array.isArray(list) && list.every((item) => typeof item === "string"))) {
      problems.push(`${name} must be a list of names`)
    }
  }
  if (plan.seed !== undefined && !Number.isInteger(plan.seed)) {
    problems.push(`seed must be a whole number, not ${plan.seed}`)
  }
  return problems
}

/** Puts `initial` in force, drawing from `seed` unless the plan gives its own. */
export const make = (initial: FaultPlan, seed: number): Faults => {
  let plan = initial
  let random = seeded(plan.seed ?? seed)
  // Faults of the plan with `times`, and how often each happened.
  let used = new Map<string, number>()

  // A fault with `times` happens only while it has times left; the draw is made either way, so that exhausting
  // one fault does not shift the random sequence of the others.
  const allowed = (name: string, times: number | undefined): boolean => {
    if (times === undefined) return true
    const n = used.get(name) ?? 0
    if (n >= times) return false
    used.set(name, n + 1)
    return true
  }

  return {
    plan: () => plan,
    set: (next) => {
      plan = next
      used = new Map()
      if (next.seed !== undefined) random = seeded(next.seed)
    },
    decide: (operation, stream) => {
      if (!(plan.operations ?? defaultOperations).includes(operation)) return undefined
      if (plan.streams !== undefined && (stream === undefined || !plan.streams.includes(stream))) return undefined
      let delayMillis: number | undefined
      if (plan.delay !== undefined && random() < rateOf(plan.delay) && allowed("delay", plan.delay.times)) {
        delayMillis = plan.delay.millis
      }
      let fault: RequestFault | undefined
      const draw = random()
      let band = 0
      for (const kind of requestFaults) {
        const chance = plan[kind]
        if (chance === undefined) continue
        band += rateOf(chance)
        if (draw < band) {
          if (allowed(kind, timesOf(chance))) fault = kind
          break
        }
      }
      const failIndexes = plan.failIndexes !== undefined && allowed("failIndexes", plan.failIndexes.times) ?
        plan.failIndexes :
        undefined
      return { fault, delayMillis, failIndexes, error: plan.error }
    },
    touchesRecords: (decision) =>
      decision !== undefined &&
      (decision.failIndexes !== undefined || (plan.throttle ?? 0) + (plan.internalFailure ?? 0) > 0),
    recordFault: (decision, index) => {
      if (decision === undefined) return undefined
      if (decision.failIndexes?.indexes.includes(index)) {
        return { kind: "failIndexes", code: decision.failIndexes.code ?? "InternalFailure" }
      }
      const throttle = plan.throttle ?? 0
      const internalFailure = plan.internalFailure ?? 0
      if (throttle + internalFailure === 0) return undefined
      const draw = random()
      if (draw < throttle) return { kind: "throttle", code: "ProvisionedThroughputExceededException" }
      if (draw < throttle + internalFailure) return { kind: "internalFailure", code: "InternalFailure" }
      return undefined
    }
  }
}
