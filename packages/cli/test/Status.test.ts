import { Metrics } from "@effect-kinesis/writer"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import { TestClock } from "effect/testing"
import * as Progress from "../src/Progress.js"
import * as Status from "../src/Status.js"

const terminal = (isTTY: boolean) => {
  const written: Array<string> = []
  return { written, terminal: { write: (text: string) => written.push(text), isTTY, columns: () => 200 } }
}

describe("Status", () => {
  it.effect("reads the writer's metrics of the stream, summed over their labels, since the source was made", () =>
    Effect.gen(function*() {
      const metrics = Metrics.forStream("status-test")
      const failed = (code: string) =>
        Metric.withAttributes(metrics.recordsFailed, { [Metrics.Attributes.errorType]: code })
      yield* Metric.update(metrics.recordsDelivered, 1)
      const source = yield* Status.fromMetrics("arn:aws:kinesis:us-east-1:1:stream/status-test", { lines: 7, bad: 1 })
      yield* Metric.update(metrics.recordsDelivered, 10)
      yield* Metric.update(metrics.bytesDelivered, 1_000)
      yield* Metric.update(failed("AccessDeniedException"), 2)
      yield* Metric.update(failed("InternalFailure"), 3)
      yield* Metric.update(Metrics.forStream("another").recordsDelivered, 100)
      const now = yield* source
      expect(now).toMatchObject({ lines: 7, bad: 1, delivered: 10, deliveredBytes: 1_000, failed: 5 })
    }))

  it.effect("redraws one line in place on a terminal, and prints messages above it", () =>
    Effect.gen(function*() {
      const { terminal: tty, written } = terminal(true)
      let delivered = 0
      const source = Effect.sync(() => ({ ...emptyAt(), delivered: delivered += 100 }))
      const display = yield* Status.start(source, tty)
      yield* TestClock.adjust("200 millis")
      yield* TestClock.adjust("200 millis")
      display.print("events.ndjson:3: invalid JSON")
      yield* display.stop
      expect(written[0]).toMatch(/^\r\x1b\[K200 stored {2}/)
      expect(written[1]).toMatch(/^\r\x1b\[K300 stored {2}/)
      expect(written[2]).toMatch(/^\r\x1b\[Kevents.ndjson:3: invalid JSON\n300 stored {2}/)
      expect(written[3]).toBe("\r\x1b[K")
    }))

  it.effect("prints plain lines every second when standard error is not a terminal", () =>
    Effect.gen(function*() {
      const { terminal: pipe, written } = terminal(false)
      const display = yield* Status.start(Effect.sync(emptyAt), pipe)
      yield* TestClock.adjust("2500 millis")
      display.print("a message")
      expect(written).toHaveLength(3)
      expect(written.every((text) => text.endsWith("\n") && !text.includes("\r"))).toBe(true)
    }))
})

const emptyAt = () => Progress.empty(Date.now())
