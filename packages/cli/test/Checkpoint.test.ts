import { afterAll, describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Checkpoint from "../src/Checkpoint.js"

const work = fs.mkdtempSync(path.join(os.tmpdir(), "checkpoint-test-"))
afterAll(() => fs.rmSync(work, { recursive: true, force: true }))
const file = (name: string, text: string) => {
  const at = path.join(work, name)
  fs.writeFileSync(at, text)
  return at
}
const place = (input: number, lines: number, offset: number, linesBefore = 0): Checkpoint.Place => ({
  input,
  lines,
  offset,
  linesBefore
})

describe("Checkpoint.Tracker", () => {
  it("turns the writer's stored prefix into the place after the last line stored in order", () => {
    const tracker = Checkpoint.track(Checkpoint.start)
    Checkpoint.record(tracker, place(0, 1, 4)) // record 0, line 1
    Checkpoint.readTo(tracker, place(0, 2, 5)) // a blank line
    Checkpoint.record(tracker, place(0, 3, 9)) // record 1, line 3
    Checkpoint.record(tracker, place(0, 4, 13)) // record 2, line 4
    expect(Checkpoint.storedPlace(tracker, 0)).toEqual(Checkpoint.start)
    expect(Checkpoint.storedPlace(tracker, 1)).toEqual(place(0, 1, 4))
    expect(Checkpoint.storedPlace(tracker, 2)).toEqual(place(0, 3, 9))
    // Every record taken is stored: so is every line read, whatever follows the last record.
    Checkpoint.readTo(tracker, place(1, 0, 0, 5))
    expect(Checkpoint.storedPlace(tracker, 3)).toEqual(place(1, 0, 0, 5))
    expect(Checkpoint.handedOver(tracker)).toBe(3)
    // A stored prefix that does not move keeps the place.
    Checkpoint.record(tracker, place(1, 1, 7, 5))
    expect(Checkpoint.storedPlace(tracker, 3)).toEqual(place(1, 0, 0, 5))
  })

  it("keeps only the records not yet stored, however many went through", () => {
    const tracker = Checkpoint.track(Checkpoint.start)
    for (let i = 1; i <= 100_000; i++) {
      Checkpoint.record(tracker, place(0, i, i * 10))
      if (i % 1000 === 0) expect(Checkpoint.storedPlace(tracker, i - 10)).toEqual(place(0, i - 10, (i - 10) * 10))
    }
    expect(tracker.inputs.length - tracker.head).toBe(10)
    expect(tracker.inputs.length).toBeLessThan(10_000)
  })
})

describe("Checkpoint files", () => {
  it("saves a place and loads it back for the same stream and inputs", async () => {
    const a = file("a.ndjson", "one\ntwo\nthree\n")
    const b = file("b.ndjson", "four\n")
    const prints = [a, b].map(Checkpoint.printOf)
    const saved = path.join(work, "saved.json")
    expect(Checkpoint.load(saved, "events", prints)).toEqual({ _tag: "None" })
    await Checkpoint.save(saved, Checkpoint.make("events", prints, place(0, 2, 8), new Date(0)))
    const loaded = Checkpoint.load(saved, "events", prints)
    expect(loaded._tag === "Resume" && loaded.checkpoint.place).toEqual(place(0, 2, 8))
    expect(loaded._tag === "Resume" && Checkpoint.isComplete(loaded.checkpoint)).toBe(false)
    // Nothing is left beside it.
    expect(fs.readdirSync(work).filter((name) => name.endsWith(".tmp"))).toEqual([])
    await Checkpoint.save(saved, Checkpoint.make("events", prints, place(2, 0, 0, 4), new Date(0)))
    const done = Checkpoint.load(saved, "events", prints)
    expect(done._tag === "Resume" && Checkpoint.isComplete(done.checkpoint)).toBe(true)
  })

  it("leaves no file aside when a save fails", async () => {
    const a = file("e.ndjson", "one\n")
    // A directory where the checkpoint goes: the rename over it fails.
    const dir = path.join(work, "taken")
    fs.mkdirSync(path.join(dir, "inside"), { recursive: true })
    await expect(Checkpoint.save(dir, Checkpoint.make("events", [Checkpoint.printOf(a)], place(0, 1, 4), new Date(0))))
      .rejects.toThrow()
    expect(fs.readdirSync(work).filter((name) => name.endsWith(".tmp"))).toEqual([])
  })

  it("refuses a checkpoint of another stream, other inputs, or inputs changed before its place", async () => {
    const a = file("c.ndjson", "one\ntwo\nthree\n")
    const b = file("d.ndjson", "four\n")
    const saved = path.join(work, "refuse.json")
    await Checkpoint.save(saved, Checkpoint.make("events", [a, b].map(Checkpoint.printOf), place(0, 2, 8), new Date(0)))
    const reason = (stream: string, inputs: ReadonlyArray<string>) => {
      const loaded = Checkpoint.load(saved, stream, inputs.map(Checkpoint.printOf))
      return loaded._tag === "Mismatch" ? loaded.reason : loaded._tag
    }
    expect(reason("events", [a, b])).toBe("Resume")
    expect(reason("other", [a, b])).toContain("is for stream events, not other")
    expect(reason("events", [b, a])).toContain(`is for ${path.resolve(a)}, ${path.resolve(b)}`)
    expect(reason("events", [a])).toContain("delete")
    // The input not started yet may change; the one read in part may not.
    fs.appendFileSync(b, "five\n")
    expect(reason("events", [a, b])).toBe("Resume")
    fs.writeFileSync(a, "ONE\ntwo\nthree\n")
    expect(reason("events", [a, b])).toContain(`was written for another ${path.resolve(a)}`)
    fs.writeFileSync(a, "one\ntwo\nthree\nfour\n")
    expect(reason("events", [a, b])).toContain("it was 14 bytes, it is 19")
    // Changed far from both ends, the size the same: a line behind the place that a rerun would skip.
    const lines = Array.from(
      { length: 4_000 },
      (_, i) => `{"line":${String(i + 1).padStart(6, "0")},"pad":"${"x".repeat(24)}"}`
    )
    const big = file("big.ndjson", `${lines.join("\n")}\n`)
    const at = place(0, 3_900, 3_900 * (lines[0].length + 1))
    await Checkpoint.save(saved, Checkpoint.make("events", [Checkpoint.printOf(big)], at, new Date(0)))
    expect(reason("events", [big])).toBe("Resume")
    lines[3_000] = lines[3_000].replace("003001", "103001")
    fs.writeFileSync(big, `${lines.join("\n")}\n`)
    expect(reason("events", [big])).toContain(`was written for another ${path.resolve(big)}`)
    fs.writeFileSync(saved, "{ not json")
    expect(reason("events", [a, b])).toContain("is not a kinesis-writer checkpoint")
  })
})
