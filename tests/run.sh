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
#
# Files run side by side: EB_TEST_JOBS of them at once (default 3; on two
# cores most files wait on fsync, sleeps and servers, and each has its own
# temp dir, ports and servers).  The Go peers (etcd 3.5-3.7, Kubernetes)
# build as jobs of the same pool, first; a file that needs one starts when
# it is built.  The longest files start first, by tests/timings.txt (the
# seconds each label took in a full run; this run writes its own to
# build/test-logs/timings.txt).  Result lines come in the order files end.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
logdir=${EB_TEST_LOGS:-$top/build/test-logs}
mkdir -p "$logdir"
pass=0 failn=0 skipn=0
failed_names=()
timings=() # "seconds label" of every file run, for the slowest ten
t_start=$SECONDS
njobs=${EB_TEST_JOBS:-3}

# ---- the job pool ----------------------------------------------------------
J_label=() J_tmo=() J_need=() J_cmd=() J_est=() J_t0=()
declare -A J_done=() # label -> 1 once ended
declare -A J_pid=()  # running pid -> job index
declare -A est=()    # label -> seconds in the run tests/timings.txt came from
if [ -r "$top/tests/timings.txt" ]; then
	while IFS=$'\t' read -r s l; do [ -n "$l" ] && est[$l]=$s; done <"$top/tests/timings.txt"
fi

# add_job LABEL TIMEOUT NEED CMD...: NEED is the label of a job that must
# end first ("" for none); builds get a weight above every file's
add_job() {
	local label=$1 tmo=$2 need=$3; shift 3
	J_label+=("$label"); J_tmo+=("$tmo"); J_need+=("$need")
	J_cmd+=("$(printf '%q ' "$@")")
	J_est+=("${est[$label]:-10}")
}
job_log() { echo "$logdir/$(echo "$1" | tr '/ []' '____').log"; }

start_job() { # index
	local i=$1 log
	log=$(job_log "${J_label[i]}")
	rm -f "$log.rc"
	(
		eval "timeout -k 10 ${J_tmo[i]} ${J_cmd[i]}" >"$log" 2>&1
		echo $? >"$log.rc"
	) &
	J_pid[$!]=$i
	J_t0[i]=$SECONDS
}

# finish_job INDEX: counts the PASS/FAIL/SKIP lines of its log and prints
# its line (and, on failure, why)
finish_job() {
	local i=$1 label=${J_label[$1]} log rc p f s took
	log=$(job_log "$label")
	rc=$(cat "$log.rc" 2>/dev/null || echo 255)
	took=$((SECONDS - J_t0[i]))
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
	timings+=("$took $label")
	J_done[$label]=1
	printf '%-44s %3d passed %3d failed %s%4ds\n' "$label" "$p" "$f" \
		"$([ "$s" -gt 0 ] && printf '%d skipped ' "$s")" "$took"
	[ "$s" -gt 0 ] && grep '^SKIP ' "$log" | sed 's/^/    /'
	if [ "$f" -gt 0 ]; then
		grep '^FAIL ' "$log" | sed 's/^/    /'
		failed_names+=("$label")
		if [ -n "${CI:-}" ]; then
			echo "    --- last lines of $log ---"; tail -n 40 "$log" | sed 's/^/    /'
		fi
	fi
}

# run_jobs: every job added, EB_TEST_JOBS at once; of those whose need has
# ended, the one with the most expected seconds starts first
run_jobs() {
	local order i pid n=${#J_label[@]} started=() running=0 left
	order=$(for i in "${!J_label[@]}"; do printf '%s %s\n' "${J_est[i]}" "$i"; done | sort -k1,1rn -k2,2n | awk '{print $2}')
	left=$n
	while [ "$left" -gt 0 ]; do
		for i in $order; do
			[ "$running" -lt "$njobs" ] || break
			[ -z "${started[i]:-}" ] || continue
			[ -z "${J_need[i]}" ] || [ -n "${J_done[${J_need[i]}]:-}" ] || continue
			started[i]=1; running=$((running + 1))
			start_job "$i"
		done
		[ "$running" -gt 0 ] || { echo "run.sh: jobs wait on a job that never runs" >&2; exit 2; }
		wait -n -p pid
		[ -n "${J_pid[$pid]:-}" ] || continue
		finish_job "${J_pid[$pid]}"
		unset "J_pid[$pid]"
		running=$((running - 1)); left=$((left - 1))
	done
}

# ---- what runs ----------------------------------------------------------------
unit_tests() { # flavour dir
	local b
	for b in "$2"/tests/test_*; do
		[ -x "$b" ] || continue
		add_job "$1 unit/$(basename "$b")" 300 "" "$b"
	done
}

# The etcd version matrix: files with the line "# versions: all" run on
# etcd 3.4 (Debian's, as every file) and again on each other version in
# EB_ETCD_VERSIONS (default all: 3.5 3.6 3.7, built by tests/etcd-versions.sh
# from the pins in tests/etcd-versions.txt and cached in build/etcd).
EB_ETCD_VERSIONS=${EB_ETCD_VERSIONS:-"3.4 3.5 3.6 3.7"}
extra_versions() { local v; for v in $EB_ETCD_VERSIONS; do [ "$v" != 3.4 ] && printf '%s ' "$v"; done; }

# the files that run Kubernetes' own binaries wait for their build
needs_kube() { grep -q 'kube-build.sh\|kube_common.sh' "$1"; }

it_tests() { # flavour bindir files...
	local fl=$1 bindir=$2 t v need; shift 2
	for t in "$@"; do
		need=""
		[ "$kube_job" = 1 ] && needs_kube "$t" && need="kube built"
		add_job "$fl $(basename "$t")" 1200 "$need" env EB_BIN="$bindir" EB_FLAVOUR="$fl" bash "$t"
		[ "$fl" = rel ] && grep -q "^# versions: all" "$t" || continue
		for v in $(extra_versions); do
			add_job "$fl[etcd $v] $(basename "$t")" 1200 "etcd $v built" \
				env EB_ETCD_VERSION="$v" EB_BIN="$bindir" EB_FLAVOUR="$fl" bash "$t"
		done
	done
}

# Builds (or finds in the cache) every version of the matrix first, one
# after the other (they share Go's build cache): one PASS per version, or a
# FAIL naming the build error (the tests of that version then fail too: a
# version is never left out in silence).  Builds weigh more than any file,
# so they start first.
build_versions() {
	local v prev=""
	for v in $(extra_versions); do
		est["etcd $v built"]=100001
		add_job "etcd $v built" 3000 "$prev" bash -c '
			if out=$(tests/etcd-versions.sh "$1" 2>&1); then echo "PASS etcd_$1 built: ${out#* }"
			else echo "FAIL etcd_$1: the build failed: $(echo "$out" | tail -5 | tr "\n" " ")"; fi' _ "$v"
		prev="etcd $v built"
	done
}

# Kubernetes' binaries (the longest Go build) start before everything else.
kube_job=0
build_kube() {
	kube_job=1
	est["kube built"]=100002
	add_job "kube built" 3000 "" bash -c '
		if out=$(tests/kube-build.sh 2>&1); then echo "PASS kube built: $out"
		else echo "FAIL kube_build: $(echo "$out" | tail -5 | tr "\n" " ")"; fi'
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
rm -rf "$tsan_dir"; mkdir -p "$tsan_dir"

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
	for t in "$@"; do needs_kube "$t" && { build_kube; break; }; done
	it_tests rel "$top/bin" "$@"
else
	build_kube
	unit_tests rel build/rel
	it_tests rel "$top/bin" tests/it/t_*.sh
	# every decoder under libFuzzer for a short while (make fuzz runs longer)
	add_job "fuzz (${EB_FUZZ_SECONDS:-10}s per decoder)" 900 "" env FUZZ_SECONDS="${EB_FUZZ_SECONDS:-10}" \
		bash tests/fuzz/run.sh
	unit_tests san build/san
	san_files=()
	for t in tests/it/t_*.sh; do grep -q '^# san: yes' "$t" && san_files+=("$t"); done
	[ ${#san_files[@]} -gt 0 ] && it_tests san "$top/build/san/bin" "${san_files[@]}"
	# ThreadSanitizer on the unit tests and the files that drive the worker
	# threads (async stage, S3 part uploads): "# tsan: yes"
	unit_tests tsan build/tsan
	tsan_files=()
	for t in tests/it/t_*.sh; do grep -q '^# tsan: yes' "$t" && tsan_files+=("$t"); done
	[ ${#tsan_files[@]} -gt 0 ] && it_tests tsan "$top/build/tsan/bin" "${tsan_files[@]}"
fi
run_jobs
[ $# -gt 0 ] || tsan_reports "tsan (any process)"

printf '%s\n' "${timings[@]}" | sort -rn | awk '{ t = $1; $1 = ""; printf "%s\t%s\n", t, substr($0, 2) }' >"$logdir/timings.txt"
echo
echo "slowest ten of $((SECONDS - t_start)) s ($njobs at once):"
printf '%s\n' "${timings[@]}" | sort -rn | head -n 10 | awk '{ t = $1; $1 = ""; printf "  %5ds %s\n", t, substr($0, 2) }'
[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "$pass passed, $failn failed, $skipn skipped"
[ "$failn" -eq 0 ]
