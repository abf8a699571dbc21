#!/usr/bin/env bash
# bench/replicate.sh - continuous backup under load, and a point-in-time
# restore against a plain restore of the same final state.
#
#  1. lag: etcd-backup replicate (--segment-interval 1s, local store) while
#     a second process writes RATE (2000) writes/s of 1 KiB for SECS (60) s;
#     the metrics textfile is sampled every 0.5 s: the age of the oldest
#     change not yet committed (lag_seconds) and etcd's revision minus the
#     last committed one (lag_revisions); the agent's CPU and peak RSS from
#     /usr/bin/time -v.  Targets: lag < 2 s, RSS <= 64 MiB.
#  2. restore: a full backup of SIZE_MB (1024) MiB, then EVENTS (1000000)
#     events recorded by replicate (100-key transactions, 200-byte values);
#     `etcd-restore --to-latest` against `etcd-restore --backup ID` of a
#     snapshot of the same final state, both from the store, alternately
#     RUNS (3) times.  Target: ratio <= 1.5.
#
#   bench/replicate.sh [SIZE_MB] [EVENTS]    RATE, SECS, RUNS in the environment
set -u
. "$(dirname "$0")/lib.sh"
size_mb=${1:-1024}
events=${2:-1000000}
rate=${RATE:-2000}
secs=${SECS:-60}
runs=${RUNS:-3}
B=$TOP/bin

# ---- 1. lag under a steady load ------------------------------------------
bench_etcd lag
/usr/bin/time -v "$B/etcd-backup" replicate --endpoints "$EP" --to "$W/lagstore" --segment-interval 1s \
	--metrics-file "$W/rep.prom" >"$W/rep.log" 2>"$W/rep.time" &
rep=$!
for _ in $(seq 100); do grep -q "full backup" "$W/rep.time" 2>/dev/null && break; sleep 0.1; done
EB_LOAD_RATE=$rate "$TOP/build/rel/tools/eb_load" "$EP" $((rate * secs)) 1024 lag/ text &
load=$!
: >"$W/lag.samples"
t0=$(date +%s.%N)
while kill -0 $load 2>/dev/null; do
	awk '/^etcd_backup_replicate_lag_seconds /{s=$2} /^etcd_backup_replicate_lag_revisions /{r=$2} END {if (s != "") print s, r}' \
		"$W/rep.prom" 2>/dev/null >>"$W/lag.samples"
	sleep 0.5
done
t1=$(date +%s.%N)
wait $load || { echo "load failed" >&2; exit 1; }
achieved=$(echo "$rate $secs $t0 $t1" | awk '{printf "%.0f", $1 * $2 / ($4 - $3)}')
sleep 2
kill -TERM "$(pgrep -P $rep)"; wait $rep   # the agent, not /usr/bin/time
cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} /Elapsed \(wall clock\)/ {n=split($2,a,":"); w=0; for(i=1;i<=n;i++) w=w*60+a[i]} END {printf "%.0f", 100*(u+s)/w}' "$W/rep.time")
rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$W/rep.time")
lag_max=$(awk '{print $1}' "$W/lag.samples" | sort -g | tail -1)
lag_p50=$(awk '{print $1}' "$W/lag.samples" | median)
rev_max=$(awk '{print $2}' "$W/lag.samples" | sort -g | tail -1)
segs=$(ls "$W/lagstore" | grep -c '\.segment\.json$')
kill $ETCD_PID; wait $ETCD_PID 2>/dev/null
printf '\nreplicate under load (%s writes/s asked, %s achieved, %s s, 1 KiB values, --segment-interval 1s)\n' "$rate" "$achieved" "$secs"
printf '  %-34s %s s (median %s s)   target < 2 s\n' "lag (oldest uncommitted change)" "$lag_max" "$lag_p50"
printf '  %-34s %s\n' "lag in revisions (max sampled)" "$rev_max"
printf '  %-34s %s%% of one core\n' "agent CPU" "$cpu"
printf '  %-34s %s MiB   target <= 64 MiB\n' "agent peak RSS" "$rss"
printf '  %-34s %s\n' "segments committed" "$segs"

# ---- 2. point-in-time restore against a plain restore ---------------------
bench_etcd pitr
echo "filling etcd to ~${size_mb} MiB..." >&2
fill "$size_mb"
"$B/etcd-backup" replicate --endpoints "$EP" --to "$W/store" --segment-interval 2s >"$W/rep2.log" 2>&1 &
rep=$!
for _ in $(seq 600); do grep -q "full backup" "$W/rep2.log" && break; sleep 0.2; done
echo "writing $events events..." >&2
python3 - "${EP##*:}" "$events" <<'PY' || exit 1
import base64, http.client, json, os, sys
port, events = int(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
b64 = lambda b: base64.b64encode(b).decode()
val = b64(os.urandom(150) + b"x" * 50)
n = 0
while n < events:
    ops = [{"request_put": {"key": b64(b"/registry/events/ns%d/e-%07d" % (i % 20, (n + i) % 300000)), "value": val}}
           for i in range(min(100, events - n))]
    c.request("POST", "/v3/kv/txn", json.dumps({"success": ops}))
    r = c.getresponse(); d = r.read()
    if r.status != 200: raise SystemExit(d)
    n += len(ops)
PY
last=$(etcdctl --endpoints "$EP" get x -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])')
for _ in $(seq 600); do
	ls "$W/store" | sed -n 's/.*\.seg\.[0-9]*-\([0-9]*\)\.segment\.json$/\1/p' | sort -n | tail -1 | grep -qx "$last" && break
	sleep 0.5
done
kill -TERM $rep; wait $rep
"$B/etcd-backup" snapshot --endpoints "$EP" --to "$W/plainstore" >"$W/plain.out" 2>&1 || { cat "$W/plain.out" >&2; exit 1; }
ID=$(sed -n 's/^backup \([^ ]*\) .*/\1/p' "$W/plain.out")
kill $ETCD_PID; wait $ETCD_PID 2>/dev/null
nseg=$(ls "$W/store" | grep -c '\.segment\.json$')
nev=$(cat "$W/store"/*.segment.json | python3 -c 'import sys, json, re; print(sum(int(m) for m in re.findall(r"\"events\": (\d+)", sys.stdin.read())))')
p_s=(); r_s=(); p_m=(); r_m=()
for i in $(seq "$runs"); do
	rm -rf "$W/out-p" "$W/out-r"
	timed pitr "$B/etcd-restore" --from "$W/store" --to-latest --data-dir "$W/out-p"; p_s+=("$SECS"); p_m+=("$RSS_MB")
	timed plain "$B/etcd-restore" --from "$W/plainstore" --backup "$ID" --data-dir "$W/out-r"; r_s+=("$SECS"); r_m+=("$RSS_MB")
done
grep -q "revision $last" "$W/pitr.out" || { echo "the point-in-time restore did not reach revision $last:" >&2; cat "$W/pitr.out" >&2; exit 1; }
ps=$(printf '%s\n' "${p_s[@]}" | median); rs=$(printf '%s\n' "${r_s[@]}" | median)
pm=$(printf '%s\n' "${p_m[@]}" | median); rm_=$(printf '%s\n' "${r_m[@]}" | median)
printf '\npoint-in-time restore: full backup of ~%s MiB + %s segments, %s events (revision %s), median of %s\n' \
	"$size_mb" "$nseg" "$nev" "$last" "$runs"
printf '  %-40s %8s s  %8s MiB\n' "etcd-restore --to-latest (full+segments)" "$ps" "$pm"
printf '  %-40s %8s s  %8s MiB\n' "etcd-restore --backup (same final state)" "$rs" "$rm_"
printf '  %-40s %8s      target <= 1.5\n' "ratio" "$(echo "$ps $rs" | awk '{printf "%.2f", $1 / $2}')"
grep "HashKV" "$W/pitr.out" | sed 's/^/  /'
