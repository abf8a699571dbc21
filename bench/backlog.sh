#!/usr/bin/env bash
# bench/backlog.sh - replicate catching up a backlog, in bounded memory.
#
# replicate takes its full backup and stops; while it is down, MB (1200) MiB
# are written as values of 1.2 MB (one revision each, incompressible); then
# replicate starts again with --segment-max-bytes 8M (the default) and
# catches up the whole backlog from the watch.  etcd sends it as fragments
# of about --max-request-bytes; replicate cuts segments inside a message at
# revision boundaries and keeps its lock alive on a thread of its own.
# Then `etcd-restore --to-latest` restores the chain (the full backup and
# every segment of the backlog).  Both from /usr/bin/time -v.
# Targets: replicate peak RSS <= 64 MiB, restore peak RSS <= 64 MiB, the
# backlog caught up with no lost lock and no gap.
#
#   bench/backlog.sh [MB]
set -u
. "$(dirname "$0")/lib.sh"
mb=${1:-1200}
B=$TOP/bin
n=$(( mb * 1048576 / 1200000 ))

bench_etcd backlog
"$B/etcd-backup" replicate --endpoints "$EP" --to "$W/store" --segment-interval 2s >"$W/rep1.log" 2>&1 &
rep=$!
for _ in $(seq 600); do grep -q "holding the lock" "$W/rep1.log" && grep -q "full backup" "$W/rep1.log" && break; sleep 0.1; done
kill -TERM $rep; wait $rep
echo "writing a backlog of $n values of 1.2 MB (~$mb MiB) while replicate is down..." >&2
"$TOP/build/rel/tools/eb_load" "$EP" "$n" 1200000 backlog/ >/dev/null || { echo "load failed" >&2; exit 1; }
last=$(etcdctl --endpoints "$EP" get x -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])')
t0=$(date +%s.%N)
/usr/bin/time -v "$B/etcd-backup" replicate --endpoints "$EP" --to "$W/store" --segment-interval 2s \
	>"$W/rep2.log" 2>"$W/rep2.time" &
rep=$!
caught=0
for _ in $(seq 6000); do
	if ls "$W/store" | sed -n 's/.*\.seg\.[0-9]*-\([0-9]*\)\.segment\.json$/\1/p' | sort -n | tail -1 |
		awk -v l="$last" '$1 >= l { ok = 1 } END { exit !ok }'; then caught=1; break; fi
	kill -0 $rep 2>/dev/null || break
	sleep 0.1
done
t1=$(date +%s.%N)
kill -TERM "$(pgrep -P $rep)" 2>/dev/null; wait $rep
rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$W/rep2.time")
lost=$(grep -c "lost the lock\|GAP:" "$W/rep2.time")
segs=$(ls "$W/store" | grep -c '\.segment\.json$')
maxseg=$(cat "$W/store"/*.segment.json | python3 -c 'import sys, re; print(max([int(x) for x in re.findall(r"\"plain_size\": (\d+)", sys.stdin.read())] or [0]))')
kill $ETCD_PID; wait $ETCD_PID 2>/dev/null
timed restore "$B/etcd-restore" --from "$W/store" --to-latest --data-dir "$W/out"
got=$(sed -n 's/^point in time: revision \([0-9]*\) .*/\1/p' "$W/restore.out")
[ "${got:-0}" -ge "$last" ] || { echo "the restore did not reach revision $last:" >&2; cat "$W/restore.out" >&2; exit 1; }
printf '\nbacklog: %s MiB in %s values of 1.2 MB written while replicate was down\n' "$mb" "$n"
printf '  %-34s %s (%s s)\n' "caught up" "$([ $caught = 1 ] && echo yes || echo NO)" \
	"$(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}')"
printf '  %-34s %s MiB   target <= 64 MiB\n' "replicate peak RSS" "$rss"
printf '  %-34s %s (largest %s bytes plain)\n' "segments" "$segs" "$maxseg"
printf '  %-34s %s\n' "lost lock or gap" "$lost"
printf '  %-34s %s s, %s MiB   target <= 64 MiB\n' "etcd-restore --to-latest" "$SECS" "$RSS_MB"
[ $caught = 1 ] && [ "$lost" = 0 ]
