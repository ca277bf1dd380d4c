/**
 * The embedded Kinesis of `--local`: kinesalite behind the proxy with AWS's limits, in a process of its own in the
 * background, shared by every `kinesis-writer` command of the user, so that `put --local` then `get --local` is a
 * round trip. It is found through a state file (`local.json` in `$KINESIS_WRITER_HOME`, default
 * `<tmpdir>/kinesis-writer-<uid>`), started on first use, and stops on `kinesis-writer local stop` or after a
 * while without requests.
 */
import { CreateStreamCommand, DescribeStreamSummaryCommand, type KinesisClientConfig } from "@aws-sdk/client-kinesis"
import { Kinesis, type KinesisError } from "@effect-kinesis/writer-next"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** A running embedded Kinesis, as its state file describes it. */
export interface Server {
  readonly pid: number
  /** The proxy (AWS limits): where clients connect. */
  readonly endpoint: string
  readonly region: string
  /** Milliseconds without a request after which it stops. */
  readonly idleMillis: number
}

/** The embedded Kinesis could not be started, or is not running when it must be. */
export class LocalError extends Data.TaggedError("LocalError")<{ readonly reason: string }> {
  override get message(): string {
    return this.reason
  }
}

/** How long the server waits without a request before it stops, unless told otherwise. */
export const DEFAULT_IDLE_MILLIS = 30 * 60_000

/** The folder of the state file and the server's log. */
export const home = (): string =>
  process.env.KINESIS_WRITER_HOME ?? path.join(os.tmpdir(), `kinesis-writer-${os.userInfo().uid}`)

const stateFile = (dir: string) => path.join(dir, "local.json")
const lockFile = (dir: string) => path.join(dir, "start.lock")

/** The log of the background server, for when it would not start. */
export const logFile = (dir: string = home()) => path.join(dir, "local.log")

/** The server's state, as the server writes it. */
export const writeState = (dir: string, server: Server): void => {
  fs.mkdirSync(dir, { recursive: true })
  const temporary = `${stateFile(dir)}.${process.pid}`
  fs.writeFileSync(temporary, JSON.stringify(server))
  fs.renameSync(temporary, stateFile(dir))
}

/** Removes the state file if it still describes the server `pid`. */
export const removeState = (dir: string, pid: number): void => {
  const state = readState(dir)
  if (state !== undefined && state.pid === pid) fs.rmSync(stateFile(dir), { force: true })
}

const readState = (dir: string): Server | undefined => {
  try {
    return JSON.parse(fs.readFileSync(stateFile(dir), "utf8")) as Server
  } catch {
    return undefined
  }
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

const answers = (endpoint: string): Promise<boolean> =>
  new Promise((resolve) => {
    const url = new URL(endpoint)
    const socket = net.connect({ host: url.hostname, port: Number(url.port) })
    socket.setTimeout(1_000)
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.once("connect", () => done(true))
    socket.once("error", () => done(false))
    socket.once("timeout", () => done(false))
  })

/** The running server, if there is one. */
export const find: Effect.Effect<Option.Option<Server>> = Effect.promise(async () => {
  const state = readState(home())
  if (state === undefined || !isAlive(state.pid)) return Option.none()
  return (await answers(state.endpoint)) ? Option.some(state) : Option.none()
})

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

// Starts the server in the background, detached from this process and its terminal, and waits for its state file.
const spawnServer = async (dir: string, idleMillis: number): Promise<Server> => {
  fs.mkdirSync(dir, { recursive: true })
  const log = fs.openSync(logFile(dir), "a")
  const script = fileURLToPath(new URL("./localServer.js", import.meta.url))
  const child = spawn(process.execPath, [script, JSON.stringify({ home: dir, idleMillis })], {
    detached: true,
    // No pipe to this process: a pipe held by the server would keep whoever reads this process's output waiting.
    stdio: ["ignore", log, log],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" }
  })
  fs.closeSync(log)
  let exited: number | null | undefined
  child.once("exit", (code) => {
    exited = code
  })
  child.unref()
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const state = readState(dir)
    if (state !== undefined && state.pid === child.pid) return state
    if (exited !== undefined) break
    await sleep(25)
  }
  if (exited === undefined) child.kill("SIGKILL")
  throw new Error(`the embedded Kinesis did not start (see ${logFile(dir)})`)
}

// One starter at a time: a second command waits for the first one's server instead of starting its own.
const withStartLock = async <A>(dir: string, body: () => Promise<A>): Promise<A> => {
  fs.mkdirSync(dir, { recursive: true })
  const deadline = Date.now() + 40_000
  while (true) {
    try {
      fs.closeSync(fs.openSync(lockFile(dir), "wx"))
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
      const age = Date.now() - (fs.statSync(lockFile(dir), { throwIfNoEntry: false })?.mtimeMs ?? Date.now())
      // A starter that died leaves its lock behind; no start takes this long.
      if (age > 35_000 || Date.now() > deadline) fs.rmSync(lockFile(dir), { force: true })
      else await sleep(50)
    }
  }
  try {
    return await body()
  } finally {
    fs.rmSync(lockFile(dir), { force: true })
  }
}

/** The running server, started first if there is none. */
export const ensure = (idleMillis: number = DEFAULT_IDLE_MILLIS): Effect.Effect<Server, LocalError> =>
  Effect.flatMap(find, (found) =>
    Option.isSome(found) ? Effect.succeed(found.value) : Effect.tryPromise({
      try: () =>
        withStartLock(home(), async () => {
          const started = await Effect.runPromise(find)
          return Option.isSome(started) ? started.value : await spawnServer(home(), idleMillis)
        }),
      catch: (error) => new LocalError({ reason: error instanceof Error ? error.message : String(error) })
    }))

/** The running server, or a failure that says how to start one. */
export const running: Effect.Effect<Server, LocalError> = Effect.flatMap(find, (found) =>
  Option.isSome(found) ?
    Effect.succeed(found.value) :
    Effect.fail(
      new LocalError({
        reason: "no embedded Kinesis is running: `kinesis-writer put --local` or `local start` starts one"
      })
    ))

/** Stops the running server; false when none was running. */
export const stop: Effect.Effect<boolean> = Effect.flatMap(find, (found) =>
  Option.match(found, {
    onNone: () => Effect.succeed(false),
    onSome: (server) =>
      Effect.promise(async () => {
        process.kill(server.pid, "SIGTERM")
        const deadline = Date.now() + 10_000
        while (isAlive(server.pid) && Date.now() < deadline) await sleep(25)
        if (isAlive(server.pid)) process.kill(server.pid, "SIGKILL")
        removeState(home(), server.pid)
        return true
      })
  }))

/** The client configuration for the server: its endpoint, its region and dummy credentials. */
export const clientConfig = (server: Server): KinesisClientConfig => ({
  endpoint: server.endpoint,
  region: server.region,
  credentials: { accessKeyId: "local", secretAccessKey: "local" }
})

/** Creates `stream` with `shards` shards unless it exists, and waits until it is active; true when it created it. */
export const createStream = (stream: string, shards: number): Effect.Effect<boolean, KinesisError, Kinesis> =>
  Effect.gen(function*() {
    const kinesis = yield* Kinesis
    const status = kinesis.send(
      "DescribeStreamSummary",
      (client, abortSignal) => client.send(new DescribeStreamSummaryCommand({ StreamName: stream }), { abortSignal })
    ).pipe(
      Effect.map((summary) => summary.StreamDescriptionSummary?.StreamStatus),
      Effect.catchIf((error) => error.code === "ResourceNotFoundException", () => Effect.succeed(undefined))
    )
    if ((yield* status) !== undefined) return false
    yield* kinesis.send(
      "CreateStream",
      (client, abortSignal) =>
        client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: shards }), { abortSignal })
    ).pipe(
      // Another command created it meanwhile.
      Effect.catchIf((error) => error.code === "ResourceInUseException", () => Effect.void)
    )
    yield* Effect.repeat(status, { until: (state) => state === "ACTIVE", schedule: Schedule.spaced("20 millis") })
    return true
  })
