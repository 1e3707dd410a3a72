#!/usr/bin/env bash
# The whole test suite (`npm test`), stage by stage, stopping at the first failure:
#   1. system dependencies (Chromium, Firefox ESR, iproute2, coturn, redis-server, janus)   ensure-system-deps.sh --with-turn --with-redis --with-janus
#   2. build: tsc type-check + compile to lib/, rollup bundle   npm run build
#   3. lint (zero warnings)                                     npm run lint
#   4. node tests (protocol, signaling, relay, build guards)    node --test lib/test/node
#   5. the packages: `npm pack` the element (the root) and the relay (server/), install both tarballs into an empty
#      folder ($work/installed) as a site owner would, and hand that folder to stage 7 in VIDEO_CHAT_PACKAGE_DIR,
#      where test/e2e/package.test.ts starts `npx video-chat-relay` there and makes a call through it. The install
#      needs the npm registry (or npm's cache, which `npm ci` filled: --prefer-offline), which the network namespace
#      of the browser stages does not have, hence this stage outside it.
#   6. browser tests in Chromium + Firefox ESR                  scripts/netns.sh npx web-test-runner (files that
#      could not even be imported, and nothing else failed, run once more)
#   7. end-to-end calls, one browser process per participant    scripts/netns.sh node --test lib/test/e2e
# Browser stages run inside a private network namespace (scripts/netns.sh). A stage whose runner finds no test file
# or runs no test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

stage_name=""
stage_started=0
suite_started=$SECONDS
summary=()
work=$(mktemp -d "${TMPDIR:-/tmp}/video-chat-test.XXXXXX")
on_exit() {
  local rc=$?
  rm -rf "$work"
  if ((rc != 0)) && [[ -n "$stage_name" ]]; then
    printf '\n\033[1;31m==> FAILED: %s (exit %d, after %d s)\033[0m\n' "$stage_name" "$rc" $((SECONDS - stage_started)) >&2
  fi
}
trap on_exit EXIT

stage() {
  finish_stage
  stage_name=$1
  stage_started=$SECONDS
  printf '\n\033[1m==> %s\033[0m\n' "$stage_name"
}
finish_stage() {
  if [[ -n "$stage_name" ]]; then summary+=("$(printf '%4d s  %s' $((SECONDS - stage_started)) "$stage_name")"); fi
  stage_name=""
}

# find_tests DIR...: the compiled test files (lib/**/*.test.js) under the given directories whose TypeScript source
# still exists (tsc never deletes the output of a removed source), sorted; fails if there are none.
find_tests() {
  local found="" dir file src
  for dir in "$@"; do
    [[ -d "$dir" ]] || continue
    while IFS= read -r file; do
      src=${file#lib/}
      src=${src%.js}.ts
      [[ -f "$src" ]] && found+="$file"$'\n'
    done < <(find "$dir" -type f -name '*.test.js')
  done
  found=$(printf '%s' "$found" | LC_ALL=C sort)
  if [[ -z "$found" ]]; then
    echo "no test files (*.test.js) found under $*" >&2
    return 1
  fi
  printf '%s\n' "$found"
}

# reporters NAME: node --test reporter options: spec on stdout, and TAP into $work/NAME.tap for check_ran.
reporters() {
  printf '%s\n' --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap "--test-reporter-destination=$work/$1.tap"
}
# check_ran NAME: fails unless the TAP output of that run counted at least one test.
check_ran() {
  local count
  count=$(sed -n 's/^# tests \([0-9][0-9]*\)$/\1/p' "$work/$1.tap" 2>/dev/null | tail -1)
  if [[ -z "$count" || "$count" -eq 0 ]]; then
    echo "$1: no test ran" >&2
    return 1
  fi
}

stage "1/7 system dependencies"
# coturn, redis-server and janus too: the TURN, cluster and SFU tests start real `turnserver` / `redis-server` /
# `janus` processes (and fail, naming the fix, without one).
bash scripts/ensure-system-deps.sh --with-turn --with-redis --with-janus

stage "2/7 build (tsc + rollup)"
npm run --silent build

stage "3/7 lint"
npm run --silent lint

stage "4/7 node tests: protocol, relay, build guards (node --test)"
files=$(find_tests lib/test/node)
mapfile -t node_files <<<"$files"
mapfile -t opts < <(reporters node)
node --test "${opts[@]}" "${node_files[@]}"
check_ran node

stage "5/7 packages: npm pack both, install the tarballs into an empty folder"
mkdir -p "$work/tarballs" "$work/installed"
# --ignore-scripts: their prepack would build again; stage 2 just did.
npm pack --ignore-scripts --silent --pack-destination "$work/tarballs" >/dev/null
(cd server && npm pack --ignore-scripts --silent --pack-destination "$work/tarballs" >/dev/null)
printf '{ "name": "site-owner", "private": true }\n' >"$work/installed/package.json"
(cd "$work/installed" && npm install --prefer-offline --no-audit --no-fund --silent "$work"/tarballs/*.tgz)
[[ -x "$work/installed/node_modules/.bin/video-chat-relay" ]] || {
  echo "the installed video-chat-relay has no bin" >&2
  exit 1
}
ls -l "$work/tarballs"
export VIDEO_CHAT_PACKAGE_DIR="$work/installed"

stage "6/7 browser tests (web-test-runner: Chromium, Firefox ESR)"
wtr() { bash scripts/netns.sh npx --no-install web-test-runner --config web-test-runner.config.mjs "$@" 2>&1 | tee "$work/wtr.log"; }
# unimported: the test files whose module a browser could not even fetch ("Could not import your test module"), one
# per line, when those are the run's only failures; nothing otherwise.
unimported() {
  sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$work/wtr.log" | awk '
    /^lib\/test\/browser\/.*\.test\.js:$/ { file = substr($0, 1, length($0) - 1) }
    /❌/ { if (index($0, "Could not import your test module")) bad[file] = 1; else other = 1 }
    END { if (!other) for (f in bad) print f }'
}
if ! wtr; then
  # Seen about once in 15 runs on a loaded 2-core machine: Chromium fails to fetch the first test module of a run
  # (no HTTP error logged, Firefox unaffected). Such files are run once more; a failed assertion is never retried.
  mapfile -t retry < <(unimported)
  if ((${#retry[@]} == 0)); then exit 1; fi
  printf '\n==> %d test file(s) could not be imported; running them once more: %s\n' "${#retry[@]}" "${retry[*]}"
  wtr --files "${retry[@]}"
fi

stage "7/7 end-to-end calls (node --test + puppeteer-core)"
files=$(find_tests lib/test/e2e)
mapfile -t e2e_files <<<"$files"
mapfile -t opts < <(reporters e2e)
bash scripts/netns.sh node --test --test-concurrency=1 "${opts[@]}" "${e2e_files[@]}"
check_ran e2e

finish_stage
printf '\n\033[1m==> all stages passed in %d s\033[0m\n' $((SECONDS - suite_started))
printf '%s\n' "${summary[@]}"
