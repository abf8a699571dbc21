#!/usr/bin/env bash
# bench/restore.sh - etcd-restore against `etcdctl snapshot restore` (3.4) or
# `etcdutl snapshot restore` (3.5+, BENCH_ETCD_VERSION) on a
# snapshot of SIZE_MB (default 1024) written by real etcd: Kubernetes-like
# keys (1-8 KB values, updates and deletes) plus some large values.  Runs
# both tools alternately RUNS times (default 3) on the same file with warm
# page cache; reports wall time and peak RSS from /usr/bin/time -v.
#
#   bench/restore.sh [SIZE_MB] [RUNS]      (BENCH_DIR=/tmp/eb-bench by default)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
size_mb=${1:-1024}
runs=${2:-3}
# the etcd version (BENCH_ETCD_VERSION) and its reference restore tool
BENCH_DIR_SAVED=${BENCH_DIR-}
BENCH_DIR=/dev/null . "$top/bench/lib.sh"; trap - EXIT
dir=${BENCH_DIR_SAVED:-/tmp/eb-bench}
mkdir -p "$dir"
snap=$dir/snap-${size_mb}m-etcd$BENCH_ETCD_VERSION.db
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

if [ ! -f "$snap" ]; then
	cp=$(port); pp=$(port)
	rm -rf "$dir/src"
	etcd --name b --data-dir "$dir/src" --listen-client-urls http://127.0.0.1:$cp --advertise-client-urls http://127.0.0.1:$cp \
		--listen-peer-urls http://127.0.0.1:$pp --initial-advertise-peer-urls http://127.0.0.1:$pp \
		--initial-cluster b=http://127.0.0.1:$pp --quota-backend-bytes $((8 << 30)) \
		--max-request-bytes $((4 << 20)) >"$dir/src.log" 2>&1 &
	epid=$!
	trap 'kill $epid 2>/dev/null' EXIT
	for _ in $(seq 50); do etcdctl --endpoints http://127.0.0.1:$cp endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
	echo "filling etcd to ~${size_mb} MiB..." >&2
	python3 - "$cp" "$size_mb" <<'PY' || exit 1
import base64, http.client, json, os, random, sys
port, size_mb = int(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
b64 = lambda b: base64.b64encode(b).decode()
def call(path, body):
    c.request("POST", path, json.dumps(body)); r = c.getresponse(); d = r.read()
    if r.status != 200: raise SystemExit(d)
    return json.loads(d)
rnd = random.Random(1); written = 0; n = 0
blob = os.urandom(1 << 20)
while written < size_mb * (1 << 20) * 0.93:
    ops = []
    for _ in range(100):
        n += 1
        key = "/registry/%s/ns%d/obj-%07d" % (rnd.choice(["pods", "configmaps", "secrets", "events"]), n % 50, n % 150000)
        vl = rnd.randrange(1000, 8000) if n % 500 else rnd.randrange(100000, 600000)
        off = rnd.randrange(0, len(blob) - vl)
        ops.append({"request_put": {"key": b64(key.encode()), "value": b64(blob[off:off + vl])}})
        written += vl + len(key)
    call("/v3/kv/txn", {"success": ops})
    if n % 20000 == 0:
        call("/v3/kv/deleterange", {"key": b64(b"/registry/events/"), "range_end": b64(b"/registry/events0")})
rev = int(call("/v3/kv/range", {"key": b64(b"x")})["header"]["revision"])
call("/v3/kv/compaction", {"revision": max(rev - 5, 2), "physical": True})
PY
	etcdctl --endpoints http://127.0.0.1:$cp snapshot save "$snap" >/dev/null || exit 1
	kill $epid; wait $epid 2>/dev/null; trap - EXIT
	rm -rf "$dir/src"
fi
ls -l "$snap" >&2
"$REF_RESTORE" snapshot status -w table "$snap" >&2

flags=(--name m1 --initial-cluster m1=http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380
       --initial-cluster-token bench)
cat "$snap" >/dev/null # warm the page cache for both tools alike
measure() { # label cmd... -> "label wall_s rss_kb"
	local label=$1; shift
	rm -rf "$dir/out"
	/usr/bin/time -v "$@" >/dev/null 2>"$dir/time.txt" || { echo "$label FAILED" >&2; tail -5 "$dir/time.txt" >&2; return 1; }
	local wall rss
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$dir/time.txt")
	rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$dir/time.txt")
	echo "$label $wall $rss"
	rm -rf "$dir/out"
}
res=()
for i in $(seq "$runs"); do
	res+=("$(measure etcd-restore "$top/bin/etcd-restore" --from "$snap" "${flags[@]}" --data-dir "$dir/out")")
	res+=("$(measure etcdctl "$REF_RESTORE" snapshot restore "$snap" "${flags[@]}" --data-dir "$dir/out")")
done
printf '%s\n' "${res[@]}" | awk -v sz="$(stat -c %s "$snap")" '
{ n[$1]++; t[$1]+=$2; if ($3>r[$1]) r[$1]=$3; all[$1]=all[$1] sprintf(" %.2f", $2) }
END {
  printf "snapshot: %.0f MiB\n", sz/1048576
  printf "%-14s %10s %14s   %s\n", "tool", "mean wall", "peak RSS", "runs (s)"
  for (k in n) printf "%-14s %9.2fs %10.1f MiB  %s\n", k, t[k]/n[k], r[k]/1024, all[k]
  if (n["etcdctl"] && n["etcd-restore"]) printf "time ratio etcd-restore/etcdctl: %.2f\n", (t["etcd-restore"]/n["etcd-restore"])/(t["etcdctl"]/n["etcdctl"])
}'
