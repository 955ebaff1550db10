#!/usr/bin/env bash
# Builds the load-and-prepare fuzz target and runs it for a given time.
#
#   bash tests/fuzz/run_fuzz.sh [SECONDS] [extra libFuzzer flags...]
#
# Needs clang++ with libFuzzer (Debian: clang, libclang-rt-14-dev or newer).
# Every runtime source is compiled in and every kernel of the registry
# (runtime/src/microforge/kernels/registry.h) is registered.
# Seeds: tests/fuzz/corpus (the regression models), the bundled examples and
# the model zoo (../shared/models/**/*.tflite, when present, up to 128 KB).
# The working corpus lives in $MF_FUZZ_DIR (default .microforge/fuzz); any
# crash is copied into tests/fuzz/corpus/crash-<sha1>.tflite, and the script
# exits 1 when there was one. Runs with one job, one worker, nice 10.
set -euo pipefail

SECONDS_TO_RUN=${1:-60}
shift || true
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${MF_FUZZ_DIR:-$ROOT/.microforge/fuzz}
CXX=${CXX:-clang++}
mkdir -p "$OUT/work" "$OUT/seeds" "$OUT/artifacts"

nice -n 10 "$CXX" -std=c++17 -fno-exceptions -fno-rtti -g -O1 \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I"$ROOT/runtime/src" \
  "$HERE/fuzz_load.cpp" $(find "$ROOT/runtime/src/microforge" -name '*.cpp' | sort) \
  -o "$OUT/fuzz_load"

# Seeds (copied so libFuzzer never writes into the sources).
for f in "$HERE"/corpus/*.tflite "$ROOT"/generator/microforge/examples/*.tflite; do
  [ -f "$f" ] && cp -f "$f" "$OUT/seeds/"
done
SHARED=$(cd "$ROOT/.." && pwd)/shared/models
if [ -d "$SHARED" ]; then
  find "$SHARED" -name '*.tflite' -size -129k | while read -r f; do
    cp -f "$f" "$OUT/seeds/zoo-$(basename "$(dirname "$f")")-$(basename "$f")"
  done
fi

rc=0
cd "$OUT"  # -jobs writes fuzz-<n>.log into the working folder
rm -f fuzz-0.log
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} nice -n 10 "$OUT/fuzz_load" \
  -max_total_time="$SECONDS_TO_RUN" -jobs=1 -workers=1 -max_len=131072 -timeout=10 \
  -rss_limit_mb=1024 -artifact_prefix="$OUT/artifacts/" -print_final_stats=1 \
  "$@" "$OUT/work" "$OUT/seeds" || rc=$?

[ -f fuzz-0.log ] && grep -E '^(stat::|Done|SUMMARY|==[0-9]+==ERROR)' fuzz-0.log || true
found=0
for a in "$OUT"/artifacts/*; do
  [ -f "$a" ] || continue
  sha=$(sha1sum "$a" | cut -c1-16)
  cp -f "$a" "$HERE/corpus/crash-$sha.tflite"
  echo "finding: $a -> tests/fuzz/corpus/crash-$sha.tflite"
  mv "$a" "$OUT/artifacts/kept-$(basename "$a")"
  found=1
done
mkdir -p "$OUT/kept"
mv "$OUT"/artifacts/kept-* "$OUT/kept/" 2>/dev/null || true
if [ "$found" = 1 ] || [ "$rc" != 0 ]; then
  echo "fuzz: finding(s) or error (libFuzzer exit $rc)"
  exit 1
fi
echo "fuzz: no findings in ${SECONDS_TO_RUN}s"
