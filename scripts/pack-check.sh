#!/usr/bin/env bash
# The packages as they would be published: builds, packs @effect-kinesis/core, @effect-kinesis/writer,
# @effect-kinesis/local-server and @effect-kinesis/local, checks what the tarballs hold, installs them (with effect
# pinned to the lock file's version) into a fresh project outside the workspace, type-checks a small program under
# strict settings, and runs it: it starts LocalKinesis, writes 100 records with KinesisWriter and reads them back;
# then runs kinesis-local. Any failure exits non-zero.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() {
  echo "pack-check: $*" >&2
  exit 1
}

npx tsc -b
npx publint packages/core --strict
npx publint packages/writer --strict
npx publint packages/local-server --strict
npx publint packages/local --strict

mkdir "$work/tarballs"
npm pack --silent --pack-destination "$work/tarballs" -w @effect-kinesis/core -w @effect-kinesis/writer \
  -w @effect-kinesis/local-server -w @effect-kinesis/local >/dev/null
for tarball in "$work"/tarballs/*.tgz; do
  name="$(basename "$tarball")"
  listing="$(tar tzf "$tarball")"
  for needed in package.json README.md LICENSE dist/index.js dist/index.d.ts; do
    grep -qx "package/$needed" <<<"$listing" || fail "$name lacks $needed"
  done
  # Build state, tests and dependencies are of no use to a user.
  if stray="$(grep -E '\.tsbuildinfo$|^package/(test|node_modules|coverage)/' <<<"$listing")"; then
    fail "$name holds what a user does not need: $stray"
  fi
  echo "pack-check: $name, $(wc -c <"$tarball") bytes, $(wc -l <<<"$listing") files"
done

locked() { node -p "require('./package-lock.json').packages['node_modules/$1'].version"; }
effect="$(locked effect)"
typescript="$(locked typescript)"
types_node="$(locked @types/node)"

app="$work/app"
mkdir -p "$app/src"
cd "$app"
cat >package.json <<'JSON'
{ "name": "pack-check-app", "private": true, "type": "module" }
JSON
# Every tarball in one install, so that the packages depend on each other as packed, not on the registry's.
npm install --no-audit --no-fund --prefer-offline --loglevel=error \
  "$work"/tarballs/*.tgz "effect@$effect" "typescript@$typescript" "@types/node@$types_node" >/dev/null
for nested in local/node_modules/@effect-kinesis/writer local/node_modules/@effect-kinesis/local-server \
  writer/node_modules/@effect-kinesis/core local-server/node_modules/@effect-kinesis/core; do
  [ ! -e "node_modules/@effect-kinesis/$nested" ] || fail "a copy of its own instead of the packed one: $nested"
done
# effect is a peer dependency: one copy, the application's.
copies="$(npm ls effect --all --parseable 2>/dev/null | sort -u | wc -l)"
[ "$copies" -eq 1 ] || fail "effect is installed $copies times: $(npm ls effect --all 2>&1)"

cat >tsconfig.json <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022",
    "lib": ["ES2023"],
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "exactOptionalPropertyTypes": true,
    "noUncheckedIndexedAccess": true,
    "noUnusedLocals": true,
    "noUnusedParameters": true,
    "noImplicitOverride": true,
    "verbatimModuleSyntax": true,
    "skipLibCheck": false,
    "types": ["node"],
    "rootDir": "src",
    "outDir": "dist"
  },
  "include": ["src"]
}
JSON

cat >src/main.ts <<'TS'
import { LocalKinesis } from "@effect-kinesis/local"
import { KinesisWriter } from "@effect-kinesis/writer"
import { Effect, Layer } from "effect"

const stream = "pack-check"

// @ts-expect-error: a stream is a string; an error here would mean the packages' types did not load
KinesisWriter.layer({ stream: 1 })

const WriterOnLocal = KinesisWriter.layer({ stream, linger: "10 millis" }).pipe(
  Layer.provideMerge(LocalKinesis.layer({ streams: { [stream]: 2 } }))
)

const program = Effect.gen(function*() {
  const writer = yield* KinesisWriter
  const local = yield* LocalKinesis
  for (let i = 0; i < 99; i++) yield* writer.enqueue({ i, text: `record ${i}` }, `key-${i % 7}`)
  const last = yield* writer.put({ i: 99, text: "record 99" })
  yield* writer.flush
  const records = yield* local.readAll(stream)
  const decode = (data: Uint8Array) => JSON.parse(new TextDecoder().decode(data)) as { readonly i: number }
  const numbers = new Set(records.map((record) => decode(record.data).i))
  if (records.length !== 100 || numbers.size !== 100) {
    return yield* Effect.fail(new Error(`read back ${records.length} records (${numbers.size} distinct), not 100`))
  }
  if (!records.some((record) => record.sequenceNumber === last.sequenceNumber)) {
    return yield* Effect.fail(new Error(`put's sequence number ${last.sequenceNumber} is not in the stream`))
  }
  return records.length
})

const started = Date.now()
Effect.runPromise(program.pipe(Effect.provide(WriterOnLocal))).then(
  (count) => console.log(`pack-check: wrote and read back ${count} records in ${Date.now() - started} ms`),
  (error: unknown) => {
    console.error("pack-check: the program failed:", error)
    process.exitCode = 1
  }
)
TS

npx tsc -p tsconfig.json || fail "the program does not type-check against the installed packages"
started="$(date +%s%N)"
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
timeout 120 node dist/main.js || fail "the program failed (or did not end within 120 s)"
echo "pack-check: the program's process ended $(( ($(date +%s%N) - started) / 1000000 )) ms after it started"

# The bin, as the README runs it: in the background, printing its endpoint, stopped by SIGTERM with status 0.
node_modules/.bin/kinesis-local '{"streams":{"events":1}}' >"$work/serve.out" 2>&1 &
serve=$!
for _ in $(seq 100); do
  grep -q '"endpoint"' "$work/serve.out" && break
  kill -0 "$serve" 2>/dev/null || break
  sleep 0.2
done
if ! grep -q '"endpoint"' "$work/serve.out"; then
  kill "$serve" 2>/dev/null || true
  fail "kinesis-local did not start: $(cat "$work/serve.out")"
fi
kill -TERM "$serve"
wait "$serve" || fail "kinesis-local did not stop cleanly on SIGTERM: $(cat "$work/serve.out")"
echo "pack-check: kinesis-local started, printed its endpoint and stopped on SIGTERM"
