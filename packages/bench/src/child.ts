/**
 * The process one measurement runs in, so its heap, RSS and CPU are its own. Started by the orchestrator with
 * `fork`, given its task as JSON in argv, it answers with one message and exits.
 */
import type { Go, Outcome, Started, Task } from "./Job.js"

// Each task loads only its own modules: the stages run the Effect 3 writer, and a writer's process must carry no
// other writer's libraries (the Effect 4 line's would carry Effect 3 as well, and every writer's memory would too).
const perform = async (task: Task): Promise<unknown> =>
  task._tag === "Write" ?
    (await import("./Run.js")).runJob(task.job, ready) :
    task._tag === "Stages" ?
    (await import("./Stages.js")).measure(task.records, task.bytes) :
    (await import("./Core.js")).measure(task.records, task.bytes, task.profile)

// Says it is ready to offer, and waits for the word to go.
const ready = () =>
  new Promise<void>((resolve) => {
    const go = (message: Go) => {
      if (message._tag !== "Go") return
      process.off("message", go)
      resolve()
    }
    process.on("message", go)
    process.send!({ _tag: "Started" } satisfies Started)
  })

const main = async () => {
  const task = JSON.parse(process.argv[2]) as Task
  const outcome: Outcome<unknown> = await perform(task).then(
    (value) => ({ _tag: "Done", value }),
    (error: unknown) => ({
      _tag: "Crashed",
      error: error instanceof Error ? error.stack ?? error.message : String(error)
    })
  )
  process.send!(outcome, () => process.exit(0))
}

void main()
