#!/usr/bin/env bash
# The packages as they would be published, installed as a user installs them: one fresh project per Effect line.
#
#   Effect 4  @effect-kinesis/writer, /local and /cli (with /core and /local-server) and effect@latest, installed by
#             npm on Node 22; the program runs on Node 24 and on Node 22, and so does the cli's linked kinesis-writer:
#             --help, --version, put --local of 50 records, get --local of them back, local stop.
#   Effect 3  @effect-kinesis/writer-effect3 and /local-effect3 (with /core and /local-server) and effect@3,
#             installed by npm on Node 20; the program runs on Node 20 and on Node 22, effect-kinesis-local on Node 20.
#
# First it builds the published packages, packs them and checks each tarball: its README, LICENSE, dist/index.js,
# .d.ts and bins, no build state, tests or dependencies, and publint --strict without a message of any level. Each
# line's project installs its tarballs in one npm install, on the lowest Node the line runs on, so that npm's engine
# check speaks: npm's output must hold no ERESOLVE, no peer warning and no EBADENGINE, `npm ls --all` must be clean,
# the @effect-kinesis packages must be the packed ones, none nested, and effect installed once. A small program
# type-checks under strict settings (skipLibCheck false, exactOptionalPropertyTypes) and runs: it starts LocalKinesis,
# writes 100 records with KinesisWriter and reads them back. The two lines run at once.
#
# The Nodes: 24 is the repository's (node_modules/.bin/node), 20 the one that runs npm ($npm_node_execpath, else
# /usr/bin/node); 22, and any of the three this machine lacks, comes from the registry's `node` package, kept under
# node_modules/.cache/pack-check. Any failure exits non-zero.
set -euo pipefail
shopt -s inherit_errexit
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
began="$(date +%s%N)"
# The projects are some 25,000 files: on a tmpfs, when there is one with room (2 GB) that runs programs, they are
# written and removed in seconds rather than the tens of seconds a loaded disk can take.
work=""
if [ "$(df --output=avail -k /dev/shm 2>/dev/null | tail -1)" -gt 2000000 ] 2>/dev/null; then
  work="$(mktemp -d -p /dev/shm pack-check.XXXXXX)"
  printf '#!/bin/sh\n' >"$work/runs" && chmod +x "$work/runs"
  "$work/runs" 2>/dev/null || { rm -rf "$work"; work=""; }
fi
[ -n "$work" ] || work="$(mktemp -d)"
# kinesis-writer --local keeps its embedded Kinesis in the background: this run's own, stopped at the end.
export KINESIS_WRITER_HOME="$work/kinesis-writer-home"
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
cleanup() {
  local state="$KINESIS_WRITER_HOME/local.json" pid
  if [ -f "$state" ] && pid="$(node -p "require('$state').pid" 2>/dev/null)"; then kill -TERM "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "pack-check: $*" >&2
  exit 1
}
say() {
  echo "pack-check: [$(( ($(date +%s%N) - began) / 1000000000 )) s] $*"
}

# --- The Nodes ---------------------------------------------------------------------------------------------------

major_of() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || true; }
# node_of MAJOR [CANDIDATE...]: the first candidate that is Node MAJOR, else node@MAJOR from the registry.
node_of() {
  local major="$1" candidate
  shift
  for candidate in "$@"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && [ "$(major_of "$candidate")" = "$major" ]; then
      echo "$candidate"
      return
    fi
  done
  local dir="$root/node_modules/.cache/pack-check/node$major"
  local bin="$dir/node_modules/node/bin/node"
  if [ "$(major_of "$bin")" != "$major" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    echo '{ "private": true }' >"$dir/package.json"
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "node@$major" >"$work/node$major.log" 2>&1 ||
      fail "could not install node@$major from the registry: $(cat "$work/node$major.log")"
  fi
  [ "$(major_of "$bin")" = "$major" ] || fail "node@$major from the registry does not run as Node $major"
  echo "$bin"
}
# A folder whose `node` is the given Node: put first on PATH, it runs npm and the packages' bins on that Node.
path_for() {
  local dir
  dir="$work/path-node$("$1" -p 'process.versions.node')"
  mkdir -p "$dir"
  ln -sf "$1" "$dir/node"
  echo "$dir"
}

# Node 22 (from the registry on a first run) while the packages build.
node_of 22 >"$work/node22.path" &
fetching=$!
node24="$(node_of 24 "$root/node_modules/.bin/node" "$(command -v node || true)")"
node20="$(node_of 20 "${npm_node_execpath:-}" /usr/bin/node "$(command -v node || true)")"

# --- Build, pack, publint -------------------------------------------------------------------------------------------

published=(core local-server writer local cli writer-effect3 local-effect3)
# A package that would be published is in the list above.
unlisted="$(node -e '
  const fs = require("fs")
  for (const dir of fs.readdirSync("packages")) {
    const file = `packages/${dir}/package.json`
    if (fs.existsSync(file) && !JSON.parse(fs.readFileSync(file, "utf8")).private && !process.argv.includes(dir))
      console.log(dir)
  }' "${published[@]}")"
[ -z "$unlisted" ] || fail "not private, yet not checked here: $unlisted"
npx tsc -b "${published[@]/#/packages/}"
wait "$fetching" || fail "no Node 22"
node22="$(cat "$work/node22.path")"
for n in "$node24" "$node22" "$node20"; do say "Node $("$n" --version): $n"; done
path24="$(path_for "$node24")"
path22="$(path_for "$node22")"
path20="$(path_for "$node20")"

mkdir "$work/tarballs"
npm pack --silent --pack-destination "$work/tarballs" "${published[@]/#/--workspace=@effect-kinesis/}" >/dev/null
for tarball in "$work"/tarballs/*.tgz; do
  name="$(basename "$tarball")"
  listing="$(tar tzf "$tarball")"
  # Every bin the package declares, as it will be linked.
  bins="$(tar xzOf "$tarball" package/package.json | node -e '
    const p = JSON.parse(require("fs").readFileSync(0, "utf8"))
    const bin = typeof p.bin === "string" ? { [p.name]: p.bin } : p.bin ?? {}
    for (const file of Object.values(bin)) console.log(file.replace(/^\.\//, ""))')"
  for needed in package.json README.md LICENSE dist/index.js dist/index.d.ts $bins; do
    grep -qx "package/$needed" <<<"$listing" || fail "$name lacks $needed"
  done
  # Build state, tests and dependencies are of no use to a user.
  if stray="$(grep -E '\.tsbuildinfo$|^package/(test|node_modules|coverage)/' <<<"$listing")"; then
    fail "$name holds what a user does not need: $stray"
  fi
  say "$name, $(wc -c <"$tarball") bytes, $(wc -l <<<"$listing") files"
done
tarball() { echo "$work/tarballs/effect-kinesis-$1-$(node -p "require('./packages/$1/package.json').version").tgz"; }

# publint --strict on each tarball as packed, in one process: not a message of any level.
node --input-type=module -e '
  import { publint } from "publint"
  import { formatMessage } from "publint/utils"
  import * as fs from "node:fs"
  let failed = false
  for (const file of process.argv.slice(1)) {
    const data = fs.readFileSync(file)
    const tarball = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)
    const { messages, pkg } = await publint({ pack: { tarball }, strict: true })
    for (const message of messages) console.error(`${pkg.name}: ${message.type}: ${formatMessage(message, pkg)}`)
    failed ||= messages.length > 0
  }
  process.exitCode = failed ? 1 : 0' $(for package in "${published[@]}"; do tarball "$package"; done) ||
  fail "publint --strict has something to say (above)"
say "publint --strict: all good for ${published[*]}"

# --- One project per line, the two at once -------------------------------------------------------------------------

# install_line NAME PATH PACKAGE...: a fresh project $work/NAME with PACKAGE... installed by npm on the Node of PATH.
install_line() {
  local name="$1" on="$2"
  local dir="$work/$name"
  shift 2
  mkdir -p "$dir/src"
  echo '{ "name": "pack-check-app", "private": true, "type": "module" }' >"$dir/package.json"
  # Every tarball in one install, so that the packages depend on each other as packed, not on the registry's.
  (cd "$dir" && PATH="$on:$PATH" npm install --no-audit --no-fund "$@") >"$dir/npm.log" 2>&1 ||
    { cat "$dir/npm.log"; fail "$name: npm install failed"; }
  if grep -iE 'ERESOLVE|peer|EBADENGINE' "$dir/npm.log"; then
    fail "$name: npm warned about peer dependencies or engines (above)"
  fi
  # Other warnings (deprecations, install scripts) are shown, not failed on.
  local warnings
  warnings="$(grep -ci 'warn' "$dir/npm.log" || true)"
  [ "$warnings" -eq 0 ] || say "$name: npm's other warnings: $(grep -i 'warn' "$dir/npm.log" | grep -v 'warn [a-z-]*$' | tr -s ' ' | paste -sd '|' -)"
  (cd "$dir" && npm ls --all >/dev/null 2>"$dir/npm-ls.log") || { cat "$dir/npm-ls.log"; fail "$name: npm ls --all"; }
  # The packed packages, each once: no copy from the registry, none nested.
  (cd "$dir" && node -e '
    const lock = require("./package-lock.json").packages
    const ours = Object.entries(lock).filter(([path]) => /(^|\/)node_modules\/@effect-kinesis\//.test(path))
    const wrong = ours.filter(([path, entry]) => path.includes("/node_modules/@effect-kinesis/", 1) ||
      !String(entry.resolved).startsWith("file:"))
    if (wrong.length > 0) { console.error(wrong.map(([path, e]) => `${path}: ${e.resolved}`).join("\n")); process.exit(1) }
    console.log(ours.map(([path]) => path.replace(/.*node_modules\//, "")).sort().join(", "))') >"$dir/ours.log" 2>&1 ||
    fail "$name: not the packed packages, or copies of their own: $(cat "$dir/ours.log")"
  # effect is a peer dependency: one copy, the application's.
  local copies
  copies="$(cd "$dir" && npm ls effect --all --parseable 2>/dev/null | sort -u | wc -l)"
  [ "$copies" -eq 1 ] || fail "$name: effect is installed $copies times: $(cd "$dir" && npm ls effect --all 2>&1)"
  say "$name: effect $(cd "$dir" && node -p "require('effect/package.json').version") with $(cat "$dir/ours.log"), installed on Node $(PATH="$on:$PATH" node --version); no ERESOLVE, peer or engine warning, npm ls clean"
}

# program NAME SUFFIX: the program of the line whose writer is @effect-kinesis/writer$SUFFIX, type-checked.
program() {
  local dir="$work/$1" suffix="$2"
  cat >"$dir/tsconfig.json" <<'JSON'
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
  sed -E "s#\"@effect-kinesis/(local|writer)\"#\"@effect-kinesis/\\1$suffix\"#" >"$dir/src/main.ts" <<'TS'
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
  (count) => console.log(`wrote and read back ${count} records in ${Date.now() - started} ms on Node ${process.version}`),
  (error: unknown) => {
    console.error("pack-check: the program failed:", error)
    process.exitCode = 1
  }
)
TS
  (cd "$dir" && node_modules/.bin/tsc -p tsconfig.json) ||
    fail "$1: the program does not type-check against the installed packages"
  say "$1: the program type-checks (strict, exactOptionalPropertyTypes, skipLibCheck false)"
}

# run_program NAME NODE: the program, on NODE.
run_program() {
  local started output
  started="$(date +%s%N)"
  output="$(cd "$work/$1" && timeout 120 "$2" dist/main.js)" ||
    fail "$1: the program failed on Node $("$2" --version) (or did not end within 120 s)"
  say "$1: $output; the process ended after $(( ($(date +%s%N) - started) / 1000000 )) ms"
}

locked() { node -p "require('./package-lock.json').packages['node_modules/$1'].version"; }
tools=("typescript@$(locked typescript)" "@types/node@$(locked @types/node)")
effect_latest="$(npm view effect@latest version)"

# Effect 4: writer, local and cli with effect@latest, installed on Node 22 (the lowest Node the line runs on);
# the program on Node 24 and 22, then the cli's linked kinesis-writer on each: --help, --version, and a round trip
# through its own embedded Kinesis (in $KINESIS_WRITER_HOME), started by put --local and stopped by local stop.
effect4() {
  local dir="$work/effect4"
  install_line effect4 "$path22" "$(tarball core)" "$(tarball local-server)" "$(tarball writer)" "$(tarball local)" \
    "$(tarball cli)" "effect@$effect_latest" "${tools[@]}"
  program effect4 ""
  run_program effect4 "$node24"
  run_program effect4 "$node22"
  local cli_version on help version
  cli_version="$(node -p "require('./packages/cli/package.json').version")"
  seq 1 50 | sed 's/.*/{"id":&,"text":"record &"}/' >"$dir/records.ndjson"
  for on in "$path24" "$path22"; do
    kw() { (cd "$dir" && PATH="$on:$PATH" node_modules/.bin/kinesis-writer "$@"); }
    local node="Node $("$on/node" --version)"
    help="$(kw --help)" || fail "effect4: kinesis-writer --help exited with $? on $node"
    for command in put get local; do
      grep -q "$command" <<<"$help" || fail "effect4: kinesis-writer --help names no $command: $help"
    done
    version="$(kw --version)" || fail "effect4: kinesis-writer --version exited with $? on $node"
    [ "$version" = "$cli_version" ] || fail "effect4: kinesis-writer --version printed $version, not $cli_version"
    kw put --local --stream pack-check --shards 2 --key-field id <"$dir/records.ndjson" 2>"$dir/put.err" ||
      fail "effect4: kinesis-writer put --local exited with $? on $node: $(cat "$dir/put.err")"
    kw get --local --stream pack-check --format text >"$dir/get.out" 2>"$dir/get.err" ||
      fail "effect4: kinesis-writer get --local exited with $? on $node: $(cat "$dir/get.err")"
    diff <(sort "$dir/records.ndjson") <(sort "$dir/get.out") >"$dir/get.diff" ||
      fail "effect4: kinesis-writer get --local did not read back what put wrote, on $node: $(head "$dir/get.diff")"
    kw local stop >/dev/null 2>&1 || fail "effect4: kinesis-writer local stop exited with $? on $node"
    say "effect4: kinesis-writer $version on $node: --help, --version, put --local of $(wc -l <"$dir/records.ndjson") records and get --local of them back, local stop; each exit status 0"
  done
}

# Effect 3: writer-effect3 and local-effect3 with effect@3, installed on Node 20; the program on Node 20 and 22, and
# local-server's effect-kinesis-local on Node 20.
effect3() {
  local dir="$work/effect3"
  install_line effect3 "$path20" "$(tarball core)" "$(tarball local-server)" "$(tarball writer-effect3)" \
    "$(tarball local-effect3)" effect@3 "${tools[@]}"
  [ "$(cd "$dir" && node -p "require('effect/package.json').version.split('.')[0]")" = 3 ] ||
    fail "effect3: effect@3 installed no effect 3"
  program effect3 "-effect3"
  run_program effect3 "$node20"
  run_program effect3 "$node22"
  # As the README runs it: in the background, printing its endpoint, stopped by SIGTERM with status 0.
  (cd "$dir" && PATH="$path20:$PATH" exec node_modules/.bin/effect-kinesis-local '{"streams":{"events":1}}') \
    >"$dir/serve.out" 2>&1 &
  local serve=$!
  for _ in $(seq 150); do
    grep -q '"endpoint"' "$dir/serve.out" && break
    kill -0 "$serve" 2>/dev/null || break
    sleep 0.2
  done
  if ! grep -q '"endpoint"' "$dir/serve.out"; then
    kill "$serve" 2>/dev/null || true
    fail "effect3: effect-kinesis-local did not start: $(cat "$dir/serve.out")"
  fi
  kill -TERM "$serve"
  wait "$serve" || fail "effect3: effect-kinesis-local did not stop cleanly on SIGTERM: $(cat "$dir/serve.out")"
  say "effect3: effect-kinesis-local on Node $("$node20" --version) started, printed its endpoint and stopped on SIGTERM"
}

# Each line in a process of its own; the run fails if either does, once both have ended.
effect4 &
line4=$!
effect3 &
line3=$!
status4=0
wait "$line4" || status4=$?
status3=0
wait "$line3" || status3=$?
failed=()
[ "$status4" -eq 0 ] || failed+=("the Effect 4 line")
[ "$status3" -eq 0 ] || failed+=("the Effect 3 line")
[ "${#failed[@]}" -eq 0 ] || fail "failed (above): ${failed[*]/%/;}"
say "all good: both lines, on Node $("$node24" --version), $("$node22" --version) and $("$node20" --version)"
