/**
 * The part of `docs/bench/README.md` that does not change from run to run: how to run, and how it measures.
 */
import { aggregationCeiling } from "./Utilization.js"
import { CHUNK, tuned } from "./writers/EffectKinesis.js"

// The most of the byte capacity 100-byte user records with 7-byte keys fill in full aggregates, and what that is.
const ceiling = aggregationCeiling(100)
const ceilingRate = ceiling * 4 * 1024 * 1024 / 107
const fmt = (value: number, digits: number) =>
  value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })

const writerRows: ReadonlyArray<readonly [string, string]> = [
  [
    "hand-loop",
    "the ceiling: a hand-written PutRecords loop with the SDK v3 client. Batches of 500, the same concurrency, " +
    "failed entries re-sent ahead of new ones after 100 ms, a bounded queue of 10,000 records, never gives up"
  ],
  [
    "effect-kinesis",
    "this library with its defaults (shard-aware: shard map, per-shard pacing): `enqueue` in an `Effect.gen` loop, " +
    "then `flush`. The main line, `@effect-kinesis/writer` on Effect 4, as are the variants below"
  ],
  [
    "effect-kinesis-effect3",
    "the Effect 3 line, `@effect-kinesis/writer-effect3`, driven as `effect-kinesis` is (the same loop, every " +
    "default): what Effect 4 changed (in the clean cases only)"
  ],
  [
    "effect-kinesis-blind",
    "the same with `shardAware: false`: every record sent as soon as a batch fills, as the writer did before shard " +
    "awareness (in the clean and shard scenarios only)"
  ],
  [
    "effect-kinesis-aggregated",
    "the same with `aggregate: true` (KPL aggregation per predicted shard, aggregates of 50 KiB and 1,000 records " +
    "at most; in the aggregation scenario only)"
  ],
  [
    "effect-kinesis-sink",
    `this library with its defaults, the records streamed in through \`writer.sink\` (\`Stream.run\`, chunks of ${CHUNK} ` +
    "entries), then `flush` (in the clean cases only)"
  ],
  [
    "effect-kinesis-all",
    `this library with its defaults, the records handed over with \`enqueueAll\` ${CHUNK} at a time, then \`flush\` ` +
    "(in the clean cases only)"
  ],
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
npm run bench              # quick: every scenario, fewer records and rounds: about 11 minutes on 2 cores
                           #   (3 of them the shard and aggregation scenarios, which offer in real time)
npm run bench -- --full    # the figures to publish: 100,000 records per run, more rounds
npm run bench -- --only clean,core --writers hand-loop,effect-kinesis   # a part of it
npm run bench -- --only shards   # the shard scenarios alone (aws-4x1.25, hot-key, two-writers, split)
npm run bench -- --only aggregated   # KPL aggregation: aggregated, plain and the hand loop on 4 shards
npm run bench -- --only clean,shards --merge   # measure these again, keep the other cases of docs/bench
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
  per record, every thread counted (garbage collection and compilation run on V8's own threads); **2nd half** is
  the same from the middle record offered to the end: what a record costs once the code is compiled and warm,
  where the whole run's figure also carries what a process pays once. **Peak RSS** is the kernel's high-water mark of the writer process's own memory (\`VmHWM\`,
  startup included; not \`maxRSS\`, which a forked child inherits from its parent); **peak heap** is the JS
  heap in use plus the external memory V8 accounts for (where record bytes live, in ArrayBuffers), sampled
  every 10 ms and every 1,024 records offered.

## The writers

${writerTable}

## Scenarios

- **Clean**: 100-byte records, 4 shards, offered as fast as each writer takes them.
- **Clean, 32 shards** (every writer of the clean case): the same with 32 shards. The shard-aware writer paces
  each shard to AWS's limits even where the emulator does not enforce them, so in the clean case it takes 4
  shards' 4,000 records/s at most; with 32 shards that pacing does not bind. The records/s targets are checked
  here, the CPU and memory targets in both (per round, as ratios to the hand loop's).
- **Clean, 32 shards, 4x the records** (\`--only long\`; the hand loop and this library's enqueue, sink and
  enqueueAll): 400,000 records. Beside clean-32's 100,000 it splits CPU into what each record costs and what a
  process pays once (loading, and compiling the code that runs hot: V8 compiles on threads of its own, counted).
- **Stages** (run with the core): the writer's per-record path with no SDK and no HTTP, one step added at a time
  (encode; place on a shard; the pure core's accumulator as the writer runs it; the whole Effect writer against a
  Kinesis that answers in memory), 100,000 records each, CPU of the process: what each step costs.
- **10% throttled**: the same, with the embedded Kinesis's fault proxy refusing 10% of records with
  \`ProvisionedThroughputExceededException\`.
- **AWS limits**: the proxy enforces 1,000 records/s and 1 MiB/s per shard; records are offered at twice the
  stream's capacity. *x capacity* is delivered records/s over that capacity.
- **Overload**: 100-byte records offered all at once, far faster than the server takes them, at two loads ten
  times apart, the smaller already beyond this library's default buffer (10,000 records): a bounded writer's
  peak memory stays flat, an unbounded one's grows with the load.
- **Shard scenarios** (\`--only shards\`; run by effect-kinesis, effect-kinesis-blind and the hand loop, the
  writer's defaults otherwise): the proxy enforces AWS's limits, 100-byte records are offered at 1.25x what the
  stream can take, for 20 s (shorter in the quick run: 8 s, 6 s for hot-key, 4 s for two-writers, 10 s for split):
  - **aws-4x1.25**: 4 shards, 5,000 records/s, distinct keys.
  - **hot-key**: 4 shards, every other record on one partition key, the rest on distinct keys. The hot shard gets
    62.5% of the records (the hot half, and a quarter of the rest), so the stream takes 1,600 records/s at most;
    2,000 records/s are offered, 1,250/s of them to the hot shard. *Hot shard used* is what that shard stored.
  - **two-writers**: two writer processes at once on one 4-shard stream, each offering 5,000 records/s of its own
    (2.5x the capacity together); they start offering together, and capacity used is measured while both offer.
    *Offers ended* says when each one had offered its last record (far apart: they did not share evenly), *used
    after first ended* the capacity used from then until the other's last record (how fast it took the stream
    over); CPU per record over both processes.
  - **split**: 1 shard, offered 2,500 records/s (1.25x the capacity after the split); 3 s in (5 s in the full run)
    the bench splits the shard at the middle of its hash key range through the proxy (SplitShard), and the stream
    is read back across the closed parent and both children. *At capacity after split*: seconds from the split
    until both new shards store at least 90% of their record limit in every whole second to the end of the offered
    window (two seconds at a time, since the proxy counts a record when the emulator has stored it, and on a busy
    machine its delays shift records from one second into the next); the per-second table shows each shard's
    records stored and refused around the split.
- **Figures of the shard scenarios**: *sent* is the records the proxy received (first sends and re-sends);
  *refused* is the share of them it refused with \`ProvisionedThroughputExceededException\` (the AWS limits);
  *capacity used* is the records the shards stored (the proxy counts them per shard and second) from the first
  record offered to the last whole second in which records were still offered (for two writers, while both were),
  over the most they could have stored in that time: their record limit over it, plus one second of burst each.
  Each run starts on a fresh stream, whose shards, like AWS's, save up one second of their limit while idle; at
  1.25x that burst takes four seconds to spend, and a window of eight would show over 100% without it. It is the
  stream's 4 shards, the hot shard alone for hot-key, the new shards from the split on for split.
  \`results.json\` also has \`rateShare\`, the same over the limit alone, and each shard's records per second.
  *requests/rec* is PutRecords requests per record stored, *sends/rec* records sent per record stored (1.00:
  nothing re-sent); *CPU us/rec* the writer processes' CPU per record offered.
- **KPL aggregation** (\`--only aggregated\`; run by effect-kinesis-aggregated, effect-kinesis and the hand loop): the
  proxy enforces AWS's limits on 4 shards; 100-byte records with keys \`k<index>\` (the same for every writer, so
  each user record is 107 bytes) are offered at 49,000 a second, 1.25x the user records whose bytes alone would fill
  the 4 MiB/s, for 10 s (5 s in the quick run). The offer ends with its time, not its records: each writer is
  offered what it takes in that time (its buffer full, it takes records as fast as it sends them), then settles
  what it took; the read-back counts them, aggregates unpacked (\`LocalKinesis.readAll\`). Without aggregation the
  record limit binds (4,000 records/s, a tenth of the bytes); in full aggregates of 50 KiB user records fill at
  most ${fmt(ceiling * 100, 1)}% of the byte capacity (the format's own bytes: key table entry, field tags and lengths,
  magic number and digest), ${fmt(ceilingRate, 0)} user records/s, ${fmt(ceilingRate / 4000, 2)}x the plain writer's
  4,000.
  - *offered*: records taken by the writer before the time ran out; *stored*: user records read back (copies
    included), *dups* and *missing* counted by the index each payload carries.
  - *user rec/s*: user records offered over the time from the first record to the last one settled (\`flush\`);
    *x plain*: that over effect-kinesis's in the same round. It compares whole runs: the stream's burst and each
    writer's end (the plain writer drains its last 10,000 records at the record limit) count in it, so it can pass
    the ceiling above; the ratio of the byte capacity used compares the same window.
  - *user rec/record*: user records stored per Kinesis record stored (1.0 without aggregation); *sent*: Kinesis
    records the proxy received (aggregates count one each, re-sends counted again); *refused*: the share of them
    it refused as over a shard's limits.
  - *byte capacity used*: the bytes of the user records (data + partition key, as Kinesis counts a record) stored
    from the first record offered to the last whole second of the offer, over the stream's 4 MiB/s over that time
    plus one second of burst per shard (as for the shard scenarios). The proxy counts the Kinesis records' bytes per
    shard and second, aggregation overhead included; the user records' share of them comes from the read-back
    (their bytes over the Kinesis bytes the proxy counted stored, over the whole run), and the bytes counted in the
    window are taken at that share. *Kinesis bytes* is the same without that share: what the shards stored,
    overhead included, over the same capacity (how close the writer's pacing came to the byte limit).
  - *CPU us/rec*: the writer process's CPU per user record offered: packing, encoding and MD5 show there.
- **Pure core**: the path the writer runs in production, without its runtime and with no I/O, in a process of its
  own (one core): 100-byte strings through \`Record.encode\` with the writer's default partition key, each taken by
  the \`Accumulator\` (the writer's defaults, routed among 4 shards by the MD5 of its key, as the shard-aware
  default does), every request \`pollSend\` plans turned into PutRecords entries (\`entriesOf\`) and answered at once
  with every record stored (\`handleResponse\`), its events read (\`pollEvents\`). Time stands still, so requests go
  when full (the last on a \`flush\`) and pacing is off: its budgets refill with the clock. Results of earlier
  benches measured \`Record.tryEncode\` then \`Batch.cut\`, which production never ran; the report names them so.
`
