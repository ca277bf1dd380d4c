/**
 * The part of `docs/bench/README.md` that does not change from run to run: how to run, and how it measures.
 */
import { tuned } from "./writers/EffectKinesis.js"

const writerRows: ReadonlyArray<readonly [string, string]> = [
  [
    "hand-loop",
    "the ceiling: a hand-written PutRecords loop with the SDK v3 client. Batches of 500, the same concurrency, " +
    "failed entries re-sent ahead of new ones after 100 ms, a bounded queue of 10,000 records, never gives up"
  ],
  ["effect-kinesis", "this library with its defaults: `enqueue` in an `Effect.gen` loop, then `flush`"],
  ["effect-kinesis-tuned", `this library with \`${JSON.stringify(tuned).replace(/"/g, "")}\``],
  [
    "shutterstock",
    "`@shutterstock/kinesis-helpers` 1.0.15: `KinesisBackgroundWriter` (the same concurrency) over " +
    "`KinesisRetrier` (first retry delay 100 ms as ours, instead of its 2 s default; 5 retries), the caller " +
    "cutting batches of 500"
  ],
  [
    "aws-kinesis-writable",
    "`aws-kinesis-writable` 4.3.0 on the AWS SDK v2 (a dev dependency of this bench only): batches of 500, " +
    "100 ms timeout, distinct partition keys (its default key is `Date.now()`). It has no concurrency setting, " +
    "so the shared agent's `maxSockets` bounds it; it retries failed requests but not failed records"
  ],
  [
    "naive-port",
    "a straight port of the small Python writer: `enqueue` flushes when 500 are queued, one PutRecords at a " +
    "time, failed entries requeued, `while (flush()) sleep(250 ms)` at the end"
  ]
]

const writerTable = [
  "| writer | what it is |",
  "|---|---|",
  ...writerRows.map(([name, what]) => `| \`${name}\` | ${what} |`)
].join("\n")

/** How to run the bench and read its figures, in Markdown. */
export const howTo = `## Running it

\`\`\`sh
npm run bench              # quick: every scenario, fewer records and rounds, under 3 minutes on 2 cores
npm run bench -- --full    # the figures to publish: 100,000 records per run, more rounds
npm run bench -- --only clean,core --writers hand-loop,effect-kinesis   # a part of it
npm run bench -- --profile /tmp/prof   # also a V8 CPU profile of every writer process
\`\`\`

It builds the workspace (\`tsc -b\`), prints the tables, and writes \`results.json\`, \`chart.svg\` and this page
into \`docs/bench\` (\`--out DIR\` to write elsewhere).

## How it measures

- **Server**: a fresh embedded Kinesis (kinesalite, in memory, on 127.0.0.1) for every run of every writer,
  in the bench's own process; the writer runs in a child process of its own, so its heap, RSS and CPU are its
  alone. kinesalite is single-threaded, so on most machines it is the bottleneck of the clean case: every
  writer that batches well reaches about the same records/s, and the client CPU column shows what each one
  costs on its side.
- **Checked by reading back**: after each run the stream is read back and every record counted by the index
  its payload carries. A run that lost a record, or did not finish, is a failure whatever its speed; duplicates
  are counted and shown.
- **Fair**: every writer gets the same SDK client settings (HTTP/1.1 \`NodeHttpHandler\` over plain http,
  a keep-alive agent with the same \`maxSockets\`, one SDK attempt per call: each writer retries in its own way),
  the same records (JSON string literals of a fixed size with distinct partition keys), and the same
  concurrency where it has a setting. Writers run in a rotating order, several rounds; each figure is the
  median over rounds, and speed is a ratio to the hand-written loop run in the same round, never an absolute
  time alone.
- **Records/s** runs from the first record offered until the writer says every record is settled (\`flush\`,
  \`onIdle\`, its last callback). **CPU us/rec** is the writer process's user + system CPU over that span,
  per record. **Peak RSS** is the kernel's high-water mark of the writer process's own memory (\`VmHWM\`,
  startup included; not \`maxRSS\`, which a forked child inherits from its parent); **peak heap** is the JS
  heap in use plus the external memory V8 accounts for (where record bytes live, in ArrayBuffers), sampled
  every 10 ms and every 1,024 records offered.

## The writers

${writerTable}

## Scenarios

- **Clean**: 100-byte records, 4 shards, offered as fast as each writer takes them.
- **10% throttled**: the same, with the embedded Kinesis's fault proxy refusing 10% of records with
  \`ProvisionedThroughputExceededException\`.
- **AWS limits**: the proxy enforces 1,000 records/s and 1 MiB/s per shard; records are offered at twice the
  stream's capacity. *x capacity* is delivered records/s over that capacity.
- **Overload**: 100-byte records offered all at once, far faster than the server takes them, at two loads ten
  times apart, the smaller already beyond this library's default buffer (10,000 records): a bounded writer's
  peak memory stays flat, an unbounded one's grows with the load.
- **Pure core**: \`Record.encode\` then \`Batch.cut\` of 100-byte strings with the writer's default partition key,
  no I/O, in a process of its own (one core).
`
