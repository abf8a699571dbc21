# bench/lib.sh - helpers for benchmarks: a loopback etcd with a big quota,
# a loader, /usr/bin/time -v parsing.  Benchmarks print our figure beside the
# reference tool's from the same run, as a ratio.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export ETCDCTL_API=3
# BENCH_ETCD_VERSION 3.4 (Debian's, default) or 3.5/3.6/3.7 (tests/etcd-versions.sh):
# that version's etcd, etcdctl and etcdutl come first in PATH, and the
# reference restore tool is its etcdutl (etcdctl in 3.4).
BENCH_ETCD_VERSION=${BENCH_ETCD_VERSION:-3.4}
if [ "$BENCH_ETCD_VERSION" != 3.4 ]; then
	_ev=$("$TOP/tests/etcd-versions.sh" "$BENCH_ETCD_VERSION") || { echo "etcd $BENCH_ETCD_VERSION is not available" >&2; exit 1; }
	PATH="${_ev#* }:$PATH"
fi
REF_RESTORE=etcdctl
[ "$BENCH_ETCD_VERSION" != 3.4 ] && REF_RESTORE=etcdutl
echo "etcd $(etcd --version | sed -n 's/etcd Version: //p')" >&2
W=${BENCH_DIR:-$(mktemp -d /var/tmp/ebbench.XXXXXX)}
_PIDS=()
trap 'for p in "${_PIDS[@]}"; do kill "$p" 2>/dev/null; done; sleep 1; [ -z "${KEEP:-}" ] && rm -rf "$W"' EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# bench_etcd NAME: starts etcd, sets EP and ETCD_PID
bench_etcd() {
	local cp pp
	cp=$(port); pp=$(port)
	EP=http://127.0.0.1:$cp
	etcd --name "$1" --data-dir "$W/$1" --listen-client-urls "$EP" --advertise-client-urls "$EP" \
		--listen-peer-urls "http://127.0.0.1:$pp" --initial-advertise-peer-urls "http://127.0.0.1:$pp" \
		--initial-cluster "$1=http://127.0.0.1:$pp" --quota-backend-bytes 8589934592 \
		--snapshot-count 1000000 >"$W/$1.log" 2>&1 &
	ETCD_PID=$!
	_PIDS+=("$ETCD_PID")
	for _ in $(seq 100); do etcdctl --endpoints "$EP" endpoint health >/dev/null 2>&1 && return; sleep 0.1; done
	echo "etcd did not start" >&2; exit 1
}

# fill MiB: about MiB of data, half JSON-like text, half random
fill() {
	local n=$(( $1 / 2 ))
	"$TOP/build/rel/tools/eb_load" "$EP" "$n" 1000000 text/ text
	"$TOP/build/rel/tools/eb_load" "$EP" "$n" 1000000 rand/
}

# timed LABEL CMD...: runs CMD under /usr/bin/time -v; sets SECS and RSS_MB
timed() {
	local label=$1; shift
	/usr/bin/time -v "$@" >"$W/$label.out" 2>"$W/$label.time" || { echo "$label failed:" >&2; tail -5 "$W/$label.time" >&2; exit 1; }
	SECS=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$W/$label.time")
	RSS_MB=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$W/$label.time")
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# bench_rgw: a Ceph RGW on loopback (tests/rgw.sh) with room for GiB
# objects, and a bucket "bench"; sets S3_ENDPOINT.  Needs tests/lib.sh.
bench_rgw() {
	source "$TOP/tests/rgw.sh"
	RGW_MEMSTORE_BYTES=$((8 << 30)) rgw_start >/dev/null 2>&1 || { echo "RGW did not start" >&2; exit 1; }
	s3cli s3 mb s3://bench >/dev/null || exit 1
}

# bench_store SNAP URL...: the data of snapshot SNAP as a backup in each
# store URL (a local folder, s3://...): etcd booted once on a restore of
# it, `etcd-backup snapshot --to URL` for each (S3 settings from the
# environment and BENCH_S3_FLAGS).  The backup's db is etcd's own after a
# restore (compact), not SNAP's bytes.
bench_store() {
	local snap=$1 d cp pp epid rc=0 u; shift
	d=$(mktemp -d "${TMPDIR:-/tmp}/ebstore.XXXXXX")
	"$TOP/bin/etcd-restore" --from "$snap" --data-dir "$d/etcd" >/dev/null 2>&1 || { echo "cannot restore $snap" >&2; return 1; }
	cp=$(port); pp=$(port)
	etcd --data-dir "$d/etcd" --listen-client-urls "http://127.0.0.1:$cp" --advertise-client-urls "http://127.0.0.1:$cp" \
		--listen-peer-urls "http://127.0.0.1:$pp" --quota-backend-bytes 8589934592 >"$d/etcd.log" 2>&1 &
	epid=$!
	for _ in $(seq 100); do etcdctl --endpoints "http://127.0.0.1:$cp" endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
	for u in "$@"; do
		# shellcheck disable=SC2086
		"$TOP/bin/etcd-backup" snapshot --endpoints "http://127.0.0.1:$cp" --to "$u" --no-progress \
			${BENCH_S3_FLAGS:-} >"$d/snap.log" 2>&1 || { echo "backup to $u failed: $(tail -2 "$d/snap.log")" >&2; rc=1; }
	done
	kill "$epid"; wait "$epid" 2>/dev/null
	rm -rf "$d"
	return $rc
}
