#!/usr/bin/env bash
# tests/fuzz/run.sh - builds (make fuzz-build) every tests/fuzz/fuzz_*.c with
# libFuzzer + ASan + UBSan and runs each for FUZZ_SECONDS (default 30) from seeds made by
# mkseed.c.  Prints PASS/FAIL per target (tests/run.sh conventions); crash
# inputs are kept in build/fuzz/<target>/crashes.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
secs=${FUZZ_SECONDS:-30}
out=build/fuzz
mkdir -p "$out/bin"
command -v "${FUZZ_CC:-clang}" >/dev/null || { echo "FAIL fuzz: clang not installed (make deps)"; exit 1; }
# built by the Makefile (fuzz-build), with the project's warnings as errors
make -s -j"$(nproc)" fuzz-build >"$out/build.log" 2>&1 || { echo "FAIL fuzz_build: see $out/build.log"; sed 's/^/    /' "$out/build.log" | tail -20; exit 1; }
rm -rf $out/seeds && mkdir -p $out/seeds && $out/mkseed $out/seeds || { echo "FAIL fuzz_seeds"; exit 1; }
nfail=0
for src in tests/fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	mkdir -p "$out/$t/corpus" "$out/$t/crashes"
	cp -n "$out/seeds/$t"/* "$out/$t/corpus/" 2>/dev/null
	if "$out/bin/$t" -max_total_time="$secs" -rss_limit_mb=1024 -timeout=10 -max_len=65536 \
		-artifact_prefix="$out/$t/crashes/" "$out/$t/corpus" >"$out/$t.log" 2>&1; then
		echo "PASS $t ($(grep -o "Done [0-9]* runs" "$out/$t.log" | grep -o "[0-9]*") runs in ${secs}s, $(grep -o "cov: [0-9]*" "$out/$t.log" | tail -1))"
	else
		echo "FAIL $t: see $out/$t.log and $out/$t/crashes"
		grep -m3 -E 'ERROR|SUMMARY' "$out/$t.log" | sed 's/^/    /'
		nfail=$((nfail + 1))
	fi
done
[ $nfail -eq 0 ]
