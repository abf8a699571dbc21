#!/usr/bin/env bash
# bench/restore_paths.sh - a restore against the disk (issue 22): the data of
# a snapshot of SIZE_MB (default 1024, bench/restore.sh's loader, cached in
# BENCH_DIR=/tmp/eb-bench) backed up into a local store and into a local
# Ceph RGW (tests/rgw.sh), and fetched back as a plain file (`etcd-backup
# get`, the same db).  Alternating, RUNS times (default 3), median:
#   dd          dd conv=fsync of the file's bytes          (the disk's floor)
#   file        etcd-restore --from FILE                   target <= 1.5x dd
#   store       etcd-restore --from STORE                  target <= 1.2x file
#   rgw         etcd-restore --from s3://...               target <= 1.4x file
#   reference   etcdctl (3.4) / etcdutl (3.5+) snapshot restore FILE
# and the peak RSS of each (target <= 64 MiB).  Not part of make test.
#
#   bench/restore_paths.sh [SIZE_MB] [RUNS]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
size_mb=${1:-1024}
runs=${2:-3}
cache=${BENCH_DIR:-/tmp/eb-bench}
BENCH_DIR=$cache bash "$top/bench/restore.sh" "$size_mb" 0 >/dev/null 2>&1 || { echo "cannot make the snapshot" >&2; exit 1; }
source "$top/tests/lib.sh"
export BENCH_DIR=$T/w
mkdir -p "$BENCH_DIR"
source "$top/bench/lib.sh"
trap _cleanup EXIT
snap=$cache/snap-${size_mb}m-etcd$BENCH_ETCD_VERSION.db
bench_rgw
BENCH_S3_FLAGS="--s3-endpoint $S3_ENDPOINT --s3-path-style"
export BENCH_S3_FLAGS
bench_store "$snap" "$W/store" "s3://bench/p" || exit 1
"$top/bin/etcd-backup" get --from "$W/store" --backup latest --output "$W/plain.db" --no-progress 2>/dev/null || exit 1
db=$W/plain.db
flags=(--name m1 --initial-cluster m1=http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380
       --initial-cluster-token bench)
R=$top/bin/etcd-restore
measure() { # label cmd...: "label wall_s rss_kb"
	local label=$1; shift
	rm -rf "$W/out" "$W/dd.out"; sync
	/usr/bin/time -v "$@" >/dev/null 2>"$W/time.txt" || { echo "$label FAILED" >&2; tail -5 "$W/time.txt" >&2; return 1; }
	awk -F': ' -v l="$label" '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; w=s}
		/Maximum resident set size/ {r=$2} END {print l, w, r}' "$W/time.txt"
	rm -rf "$W/out" "$W/dd.out"
}
cat "$db" "$W"/store/*.zst >/dev/null
res=()
for _ in $(seq "$runs"); do
	res+=("$(measure dd dd if="$db" of="$W/dd.out" bs=4M conv=fsync status=none)")
	res+=("$(measure file "$R" --from "$db" "${flags[@]}" --data-dir "$W/out")")
	res+=("$(measure store "$R" --from "$W/store" "${flags[@]}" --data-dir "$W/out")")
	# shellcheck disable=SC2086
	res+=("$(measure rgw "$R" --from s3://bench/p $BENCH_S3_FLAGS "${flags[@]}" --data-dir "$W/out")")
	res+=("$(measure reference "$REF_RESTORE" snapshot restore "$db" "${flags[@]}" --data-dir "$W/out")")
done
printf '%s\n' "${res[@]}" | awk -v sz="$(stat -c %s "$db")" -v ref="$REF_RESTORE" '
{ v[$1] = v[$1] " " $2; if ($3 > r[$1]) r[$1] = $3 }
function med(s,   a, k, i, j, t) { k = split(s, a, " "); for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }; return a[int((k + 1) / 2)] }
END {
  printf "db: %.0f MiB\n", sz / 1048576
  printf "%-10s %10s %12s\n", "restore", "median", "peak RSS"
  split("dd file store rgw reference", o, " ")
  for (i = 1; i <= 5; i++) { k = o[i]; m[k] = med(v[k]); printf "%-10s %9.2fs %8.1f MiB\n", k, m[k], r[k] / 1024 }
  printf "file / dd conv=fsync:  %.2f (target <= 1.5)\n", m["file"] / m["dd"]
  printf "store / file:          %.2f (target <= 1.2)\n", m["store"] / m["file"]
  printf "rgw / file:            %.2f (target <= 1.4)\n", m["rgw"] / m["file"]
  printf "file / %s:        %.2f\n", ref, m["file"] / m["reference"]
}'
