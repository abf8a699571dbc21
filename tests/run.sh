#!/usr/bin/env bash
# Runs every test file in its own process under a timeout, counts the
# "PASS name" / "FAIL name: why" / "SKIP name: why" lines they print, and
# closes with one line "N passed, N failed, N skipped" (each skip is also
# printed with its reason; a skip never counts as a pass).  A test may
# skip only what cannot run here for a reason outside the project (not
# root); a tool that make deps installs missing is a FAIL.  A test file that crashes, hangs or prints no result
# counts as one failure.
#
#   tests/run.sh                 everything (release build, then sanitizer)
#   tests/run.sh tests/it/t_x.sh only these files (release build)
#
# Unit tests: build/<flavour>/tests/test_*.  Integration tests: tests/it/t_*.sh
# (each gets EB_BIN = the binaries to test).  Fuzz: tests/fuzz/run.sh for
# EB_FUZZ_SECONDS (10) per decoder.  Integration files that carry
# the line "# san: yes" run a second time against the sanitizer build, and
# those with "# tsan: yes" a third time against the ThreadSanitizer build:
# the files that drive our threads (async stage, S3 part uploads, the lock
# keep-alive, signals) and our parsers (age, SSH keys and signatures,
# manifests, segments, bbolt/WAL, XML, credentials, metrics), not those
# that only exercise etcd, gRPC or TLS (t_s3_lock, t_cluster3, t_tls_auth,
# t_auth_renew, t_compression_none run once).  A closing table names the
# slowest ten files.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
logdir=${EB_TEST_LOGS:-$top/build/test-logs}
mkdir -p "$logdir"
pass=0 failn=0 skipn=0
failed_names=()
timings=() # "seconds label" of every file run, for the slowest ten
t_start=$SECONDS

run_one() { # label timeout cmd...
	local label=$1 tmo=$2; shift 2
	local log="$logdir/$(echo "$label" | tr '/ ' '__').log"
	local t0=$SECONDS
	timeout -k 10 "$tmo" "$@" >"$log" 2>&1
	local rc=$?
	local p f s
	p=$(grep -c '^PASS ' "$log")
	f=$(grep -c '^FAIL ' "$log")
	s=$(grep -c '^SKIP ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $label: exited $rc (timeout or crash), see $log" >>"$log"
		f=1
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $label: printed no result" >>"$log"
		f=1
	fi
	pass=$((pass + p)); failn=$((failn + f)); skipn=$((skipn + s))
	timings+=("$((SECONDS - t0)) $label")
	printf '%-44s %3d passed %3d failed %s%4ds\n' "$label" "$p" "$f" \
		"$([ "$s" -gt 0 ] && printf '%d skipped ' "$s")" $((SECONDS - t0))
	[ "$s" -gt 0 ] && grep '^SKIP ' "$log" | sed 's/^/    /' 
	if [ "$f" -gt 0 ]; then
		grep '^FAIL ' "$log" | sed 's/^/    /'
		failed_names+=("$label")
		if [ -n "${CI:-}" ]; then
			echo "    --- last lines of $log ---"; tail -n 40 "$log" | sed 's/^/    /'
		fi
	fi
}

unit_tests() { # flavour dir
	local b
	for b in "$2"/tests/test_*; do
		[ -x "$b" ] || continue
		run_one "$1 unit/$(basename "$b")" 300 "$b"
	done
}

# The etcd version matrix: files with the line "# versions: all" run on
# etcd 3.4 (Debian's, as every file) and again on each other version in
# EB_ETCD_VERSIONS (default all: 3.5 3.6 3.7, built by tests/etcd-versions.sh
# from the pins in tests/etcd-versions.txt and cached in build/etcd).
EB_ETCD_VERSIONS=${EB_ETCD_VERSIONS:-"3.4 3.5 3.6 3.7"}
extra_versions() { local v; for v in $EB_ETCD_VERSIONS; do [ "$v" != 3.4 ] && printf '%s ' "$v"; done; }

it_tests() { # flavour bindir files...
	local fl=$1 bindir=$2 t v; shift 2
	for t in "$@"; do
		EB_BIN="$bindir" EB_FLAVOUR="$fl" run_one "$fl $(basename "$t")" 1200 bash "$t"
		[ "$fl" = rel ] && grep -q "^# versions: all" "$t" || continue
		for v in $(extra_versions); do
			EB_ETCD_VERSION=$v EB_BIN="$bindir" EB_FLAVOUR="$fl" \
				run_one "$fl[etcd $v] $(basename "$t")" 1200 bash "$t"
		done
	done
}

# Builds (or finds in the cache) every version of the matrix first: one
# PASS per version, or a FAIL naming the build error (the tests of that
# version then fail too: a version is never left out in silence).
build_versions() {
	local v
	[ -n "$(extra_versions)" ] || return 0
	run_one "etcd versions: $(extra_versions)" 3000 bash -c '
		for v in '"$(extra_versions)"'; do
			if out=$(tests/etcd-versions.sh "$v" 2>&1); then echo "PASS etcd_$v built: ${out#* }"
			else echo "FAIL etcd_$v: the build failed: $(echo "$out" | tail -5 | tr "\n" " ")"; fi
		done'
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
# No LeakSanitizer suppressions: a blanket "leak:libgrpc.so" once hid a real
# leak of ours (TLS verifier refs), and the suite runs clean without one.
export LSAN_OPTIONS=${LSAN_OPTIONS:-print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# TSan reports go to files as well as failing the process, so a race in a
# command whose exit status a test does not look at still counts.
tsan_dir=$logdir/tsan
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1 suppressions=$top/tests/tsan.supp log_path=$tsan_dir/report}

# tsan_reports LABEL: one failure per report a TSan run left behind.
tsan_reports() {
	local r n=0
	for r in "$tsan_dir"/report.*; do
		[ -e "$r" ] || continue
		echo "FAIL $1: ThreadSanitizer report $r"
		sed 's/^/    /' "$r" | head -n 30
		n=$((n + 1))
	done
	if [ "$n" -gt 0 ]; then failn=$((failn + n)); failed_names+=("$1"); fi
}

build_versions
if [ $# -gt 0 ]; then
	it_tests rel "$top/bin" "$@"
else
	# the Kubernetes peers (a long Go build on a fresh machine, needed
	# by the t_kube* and t_runbooks files) build in the background, at
	# the lowest priority, while the tests before them run; the first
	# test that needs them waits for that build (tests/kube-build.sh)
	nice -n 19 tests/kube-build.sh >/dev/null 2>&1 &
	unit_tests rel build/rel
	it_tests rel "$top/bin" tests/it/t_*.sh
	# every decoder under libFuzzer for a short while (make fuzz runs longer)
	run_one "fuzz (${EB_FUZZ_SECONDS:-10}s per decoder)" 900 env FUZZ_SECONDS="${EB_FUZZ_SECONDS:-10}" \
		bash tests/fuzz/run.sh
	unit_tests san build/san
	san_files=()
	for t in tests/it/t_*.sh; do grep -q '^# san: yes' "$t" && san_files+=("$t"); done
	[ ${#san_files[@]} -gt 0 ] && it_tests san "$top/build/san/bin" "${san_files[@]}"
	# ThreadSanitizer on the unit tests and the files that drive the worker
	# threads (async stage, S3 part uploads): "# tsan: yes"
	rm -rf "$tsan_dir"; mkdir -p "$tsan_dir"
	unit_tests tsan build/tsan
	tsan_files=()
	for t in tests/it/t_*.sh; do grep -q '^# tsan: yes' "$t" && tsan_files+=("$t"); done
	[ ${#tsan_files[@]} -gt 0 ] && it_tests tsan "$top/build/tsan/bin" "${tsan_files[@]}"
	tsan_reports "tsan (any process)"
fi

echo
echo "slowest ten of $((SECONDS - t_start)) s:"
printf '%s\n' "${timings[@]}" | sort -rn | head -n 10 | awk '{ t = $1; $1 = ""; printf "  %5ds %s\n", t, substr($0, 2) }'
[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "$pass passed, $failn failed, $skipn skipped"
[ "$failn" -eq 0 ]
