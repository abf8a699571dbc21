#!/usr/bin/env bash
# Benchmark for the local snapshot: etcd-backup snapshot (sha256 + zstd-1 to
# a local store, fsync'd) against etcdctl snapshot save (plain file,
# fsync'd), same etcd, alternating, 3 rounds, for a 256 MiB and a 1 GiB
# database.  Prints wall time and peak RSS of both and the ratio.
# Targets: time ratio <= 1.0, our RSS <= 64 MiB and flat across sizes.
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-3}
printf '%-8s %-22s %10s %10s %10s\n' "db" "tool" "wall s" "peak RSS" "stored"
for mib in 256 1024; do
	bench_etcd "snap$mib"
	fill "$mib" || exit 1
	dbsize=$(etcdctl --endpoints "$EP" endpoint status -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["dbSize"])')
	: >"$W/ctl.t"; : >"$W/ours.t"; : >"$W/ctl.r"; : >"$W/ours.r"
	for r in $(seq "$ROUNDS"); do
		rm -f "$W/ctl.db"; sync
		timed "ctl$r" etcdctl --endpoints "$EP" snapshot save "$W/ctl.db"
		echo "$SECS" >>"$W/ctl.t"; echo "$RSS_MB" >>"$W/ctl.r"
		rm -rf "$W/store"; sync
		timed "ours$r" "$TOP/bin/etcd-backup" snapshot --endpoints "$EP" --to "$W/store" --no-progress
		echo "$SECS" >>"$W/ours.t"; echo "$RSS_MB" >>"$W/ours.r"
		stored=$(du -b "$W"/store/*.zst | cut -f1)
	done
	ct=$(median <"$W/ctl.t"); ot=$(median <"$W/ours.t")
	cr=$(sort -g "$W/ctl.r" | tail -1); or=$(sort -g "$W/ours.r" | tail -1)
	label="$((dbsize / 1048576))MiB"
	printf '%-8s %-22s %10s %9s M %10s\n' "$label" "etcdctl snapshot save" "$ct" "$cr" "$dbsize"
	printf '%-8s %-22s %10s %9s M %10s\n' "$label" "etcd-backup snapshot" "$ot" "$or" "$stored"
	awk -v o="$ot" -v c="$ct" -v l="$label" 'BEGIN {printf "%-8s time ratio ours/etcdctl = %.2f (target <= 1.00)\n", l, o/c}'
	kill "$ETCD_PID"; wait "$ETCD_PID" 2>/dev/null
	rm -rf "$W/snap$mib" "$W/ctl.db" "$W/store"
done
