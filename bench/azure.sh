#!/usr/bin/env bash
# Benchmark for the Azure Blob store (issue 23): the same database (about
# 1 GiB: half JSON-like text, half random) snapshotted, alternating, ROUNDS
# rounds, to
#   (a)   s3://     a local Ceph RGW (memstore OSD, loopback; tests/rgw.sh)
#   ours  azblob:// a local Azurite (tests/azurite.sh)
# Target: ours <= 1.1 x (a), peak RSS <= 64 MiB.  Then the last backup of
# each is restored (etcd-restore --from STORE --backup latest), alternating:
# azblob vs s3 (issue 22 asks a store restore <= 1.4x a file restore; this
# compares the two remote stores).  Both servers run on this
# machine's 2 cores beside etcd; Azurite keeps its blobs on disk, RGW in
# memory.  Env: ROUNDS (3), SIZE (MiB, 1024).
source "$(dirname "$0")/../tests/lib.sh"
export BENCH_DIR=$T/w
mkdir -p "$BENCH_DIR"
source "$TOP/bench/lib.sh"
source "$TOP/tests/azurite.sh"
trap _cleanup EXIT
ROUNDS=${ROUNDS:-3}
SIZE=${SIZE:-1024}
bench_rgw
azurite_start || { echo "Azurite did not start" >&2; exit 1; }
azsdk mkcontainer bench || exit 1
bench_etcd azbench
fill "$SIZE" >/dev/null || exit 1
dbsize=$(etcdctl --endpoints "$EP" endpoint status -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["dbSize"])')
for k in a ours; do : >"$W/$k.t"; : >"$W/$k.r"; done
for r in $(seq "$ROUNDS"); do
	s3cli s3 rm --recursive s3://bench/ >/dev/null
	sync
	timed "a$r" "$TOP/bin/etcd-backup" snapshot --endpoints "$EP" --to "s3://bench/r$r" --s3-endpoint "$S3_ENDPOINT" --no-progress
	echo "$SECS" >>"$W/a.t"; echo "$RSS_MB" >>"$W/a.r"
	sync
	timed "ours$r" "$TOP/bin/etcd-backup" snapshot --endpoints "$EP" --to "azblob://$AZ_ACCOUNT/bench/r$r" --no-progress
	echo "$SECS" >>"$W/ours.t"; echo "$RSS_MB" >>"$W/ours.r"
done
at=$(median <"$W/a.t"); ot=$(median <"$W/ours.t")
ar=$(sort -g "$W/a.r" | tail -1); orr=$(sort -g "$W/ours.r" | tail -1)
l="$((dbsize / 1048576))MiB"
printf '%-8s %-40s %8s %10s\n' db tool "wall s" "peak RSS"
printf '%-8s %-40s %8s %8s M\n' "$l" "(a) etcd-backup snapshot --to s3:// (RGW)" "$at" "$ar"
printf '%-8s %-40s %8s %8s M\n' "$l" "etcd-backup snapshot --to azblob://" "$ot" "$orr"
awk -v o="$ot" -v a="$at" -v r="$orr" -v l="$l" 'BEGIN {
	printf "%-8s azblob/RGW = %.2f (target <= 1.10), peak RSS %.1f MiB (target <= 64)\n", l, o/a, r }'
for k in ra rours; do : >"$W/$k.t"; : >"$W/$k.r"; done
for r in $(seq "$ROUNDS"); do
	rm -rf "$W/ra" "$W/rours"; sync
	timed "ra$r" "$TOP/bin/etcd-restore" --from "s3://bench/r$ROUNDS" --s3-endpoint "$S3_ENDPOINT" --backup latest --data-dir "$W/ra"
	echo "$SECS" >>"$W/ra.t"; echo "$RSS_MB" >>"$W/ra.r"
	rm -rf "$W/ra"; sync
	timed "rours$r" "$TOP/bin/etcd-restore" --from "azblob://$AZ_ACCOUNT/bench/r$ROUNDS" --backup latest --data-dir "$W/rours"
	echo "$SECS" >>"$W/rours.t"; echo "$RSS_MB" >>"$W/rours.r"
	rm -rf "$W/rours"
done
at=$(median <"$W/ra.t"); ot=$(median <"$W/rours.t")
ar=$(sort -g "$W/ra.r" | tail -1); orr=$(sort -g "$W/rours.r" | tail -1)
printf '%-8s %-40s %8s %8s M\n' "$l" "(a) etcd-restore --from s3:// (RGW)" "$at" "$ar"
printf '%-8s %-40s %8s %8s M\n' "$l" "etcd-restore --from azblob://" "$ot" "$orr"
awk -v o="$ot" -v a="$at" -v r="$orr" -v l="$l" 'BEGIN {
	printf "%-8s restore azblob/RGW = %.2f, peak RSS %.1f MiB (target <= 64)\n", l, o/a, r }'
