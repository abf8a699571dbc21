#!/usr/bin/env bash
# bench/inspect.sh - looking inside a backup against decompressing it: on a
# snapshot of SIZE_MB (default 1024, made by bench/restore.sh's loader and
# cached) stored as zstd (what a backup's object holds), and the same data
# backed up into a local store (etcd booted on it once, cached):
#   keys over the whole backup      target <= 1.2x `zstd -d` of it to /dev/null
#                                   (the file, and the store's object)
#   diff of two such backups        target <= 2.5x
#   get-key of one key              target <= 1.2x keys
#   drill                           target <= restore + etcd's boot + 5 s
# peak RSS of each (target <= 64 MiB).  RUNS (default 3) alternate runs, warm
# page cache; the median is reported.
#
#   bench/inspect.sh [SIZE_MB] [RUNS]      (BENCH_DIR=/tmp/eb-bench by default)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
size_mb=${1:-1024}
runs=${2:-3}
dir=${BENCH_DIR:-/tmp/eb-bench}
BENCH_DIR=$dir bash "$top/bench/restore.sh" "$size_mb" 0 >/dev/null 2>&1 || { echo "cannot make the snapshot" >&2; exit 1; }
BENCH_DIR_SAVED=$dir
BENCH_DIR=/dev/null . "$top/bench/lib.sh"; trap - EXIT
dir=$BENCH_DIR_SAVED
snap=$dir/snap-${size_mb}m-etcd$BENCH_ETCD_VERSION.db
z=$dir/snap-${size_mb}m-etcd$BENCH_ETCD_VERSION.db.zst
[ -f "$z" ] || zstd -q -1 -T0 "$snap" -o "$z" || exit 1
cp "$z" "$dir/b.db.zst"
B=$top/bin/etcd-backup
# the same data as a backup of a local store (what `keys --from STORE`
# reads: the stored object's sha256 checked, decrypt/decompress, pages)
st=$dir/store-${size_mb}m-etcd$BENCH_ETCD_VERSION
if ! ls "$st"/*.snapshot.db.zst >/dev/null 2>&1; then
	rm -rf "$st"
	bench_store "$snap" "$st" || exit 1
fi
so=$(ls "$st"/*.snapshot.db.zst | tail -1)
key=$("$B" keys --from "$snap" /registry/pods/ --prefix | sed -n '2{s/.*  //;p}')
measure() { # label cmd...: "label wall_s rss_kb"
	local label=$1; shift
	/usr/bin/time -v "$@" >/dev/null 2>"$dir/time.txt" || { echo "$label FAILED" >&2; tail -5 "$dir/time.txt" >&2; return 1; }
	awk -F': ' -v l="$label" '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; w=s}
		/Maximum resident set size/ {r=$2} END {print l, w, r}' "$dir/time.txt"
}
cat "$z" "$dir/b.db.zst" "$so" >/dev/null
res=()
for _ in $(seq "$runs"); do
	res+=("$(measure zstd-d zstd -dqc "$z")")
	res+=("$(measure keys "$B" keys --from "$z" --tmp-dir "$dir")")
	res+=("$(measure zstd-d-store zstd -dqc "$so")")
	res+=("$(measure keys-store "$B" keys --from "$st" --tmp-dir "$dir")")
	res+=("$(measure get-key "$B" get-key "$key" --from "$z" --tmp-dir "$dir")")
	res+=("$(measure diff "$B" diff "$z" "$dir/b.db.zst" --tmp-dir "$dir")")
	res+=("$(measure drill "$B" drill --from "$z" --tmp-dir "$dir")")
done
"$B" drill --from "$z" --tmp-dir "$dir" 2>&1 | sed -n 's/.*restored in \([0-9.]*\) s; etcd .* after \([0-9.]*\) s.*(\([0-9.]*\) s in all).*/drill: restore \1 s, boot \2 s, all \3 s/p'
printf '%s\n' "${res[@]}" | awk -v sz="$(stat -c %s "$snap")" -v zs="$(stat -c %s "$z")" '
{ v[$1] = v[$1] " " $2; if ($3 > r[$1]) r[$1] = $3; n[$1]++ }
function med(s,   a, k, i, j, t) { k = split(s, a, " "); for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }; return a[int((k + 1) / 2)] }
END {
  printf "snapshot: %.0f MiB (stored zstd: %.0f MiB)\n", sz / 1048576, zs / 1048576
  printf "%-12s %10s %12s\n", "command", "median", "peak RSS"
  split("zstd-d keys get-key diff drill zstd-d-store keys-store", o, " ")
  for (i = 1; i <= 7; i++) { k = o[i]; m[k] = med(v[k]); printf "%-12s %9.2fs %8.1f MiB\n", k, m[k], r[k] / 1024 }
  printf "keys / zstd -d:  %.2f (target <= 1.2)\n", m["keys"] / m["zstd-d"]
  printf "keys of a store backup / zstd -d of its object:  %.2f (target <= 1.2)\n", m["keys-store"] / m["zstd-d-store"]
  printf "diff / zstd -d:  %.2f (target <= 2.5)\n", m["diff"] / m["zstd-d"]
  printf "get-key / keys:  %.2f (target <= 1.2)\n", m["get-key"] / m["keys"]
}'
