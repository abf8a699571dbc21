#!/usr/bin/env bash
# Benchmark for S3 uploads (issue 3): about 1 GiB database (half JSON-like
# text, half random), same run, alternating, ROUNDS rounds:
#   ours  etcd-backup snapshot --to s3://...   (stream: sha256 + zstd + multipart)
#   (a)   etcdctl snapshot save f                          (local file only)
#   (b)   etcdctl snapshot save f && zstd f && aws s3 cp f.zst s3://...
# against a local Ceph RGW (memstore OSD, loopback; tests/rgw.sh).
# Targets: ours <= 0.5 x (b), ours <= 1.25 x (a), peak RSS <= 64 MiB and not
# growing with the database (a 256 MiB database is measured too).
# Env: ROUNDS (3), SIZES ("256 1024" MiB).
source "$(dirname "$0")/../tests/lib.sh"
export BENCH_DIR=$T/w
mkdir -p "$BENCH_DIR"
source "$TOP/bench/lib.sh"
trap _cleanup EXIT
ROUNDS=${ROUNDS:-3}
SIZES=${SIZES:-"256 1024"}
bench_rgw
printf '%-8s %-44s %8s %10s %10s\n' db tool "wall s" "peak RSS" stored
for mib in $SIZES; do
	bench_etcd "s3snap$mib"
	fill "$mib" >/dev/null || exit 1
	dbsize=$(etcdctl --endpoints "$EP" endpoint status -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["dbSize"])')
	for k in a b ours; do : >"$W/$k.t"; : >"$W/$k.r"; done
	for r in $(seq "$ROUNDS"); do
		rm -f "$W/f" "$W/f.zst"; sync
		timed "a$r" etcdctl --endpoints "$EP" snapshot save "$W/f"
		echo "$SECS" >>"$W/a.t"; echo "$RSS_MB" >>"$W/a.r"
		rm -f "$W/f"; sync
		timed "b$r" bash -c "etcdctl --endpoints '$EP' snapshot save '$W/f' >/dev/null && zstd -q '$W/f' && /usr/bin/aws --endpoint-url '$S3_ENDPOINT' s3 cp '$W/f.zst' s3://bench/b/f.zst >/dev/null"
		echo "$SECS" >>"$W/b.t"; echo "$RSS_MB" >>"$W/b.r"
		bstored=$(stat -c %s "$W/f.zst")
		rm -f "$W/f" "$W/f.zst"
		s3cli s3 rm --recursive s3://bench/b/ >/dev/null
		s3cli s3 rm --recursive s3://bench/ours/ >/dev/null
		timed "ours$r" "$TOP/bin/etcd-backup" snapshot --endpoints "$EP" --to s3://bench/ours \
			--s3-endpoint "$S3_ENDPOINT" --no-progress
		echo "$SECS" >>"$W/ours.t"; echo "$RSS_MB" >>"$W/ours.r"
		ostored=$(s3cli s3 ls s3://bench/ours/ | awk '/snapshot/ {print $3}')
	done
	at=$(median <"$W/a.t"); bt=$(median <"$W/b.t"); ot=$(median <"$W/ours.t")
	ar=$(sort -g "$W/a.r" | tail -1); br=$(sort -g "$W/b.r" | tail -1); orr=$(sort -g "$W/ours.r" | tail -1)
	l="$((dbsize / 1048576))MiB"
	printf '%-8s %-44s %8s %8s M %10s\n' "$l" "(a) etcdctl snapshot save (local file)" "$at" "$ar" "$dbsize"
	printf '%-8s %-44s %8s %8s M %10s\n' "$l" "(b) etcdctl save + zstd + aws s3 cp" "$bt" "$br*" "$bstored"
	printf '%-8s %-44s %8s %8s M %10s\n' "$l" "etcd-backup snapshot --to s3://" "$ot" "$orr" "$ostored"
	awk -v o="$ot" -v a="$at" -v b="$bt" -v r="$orr" -v l="$l" 'BEGIN {
		printf "%-8s ours/(b) = %.2f (target <= 0.50), ours/(a) = %.2f (target <= 1.25), peak RSS %.1f MiB (target <= 64)\n", l, o/b, o/a, r }'
	kill "$ETCD_PID"; wait "$ETCD_PID" 2>/dev/null
	rm -rf "$W/s3snap$mib"
	s3cli s3 rm --recursive s3://bench/ >/dev/null
done
echo "* (b) RSS is the largest single process of the pipeline (time -v of bash: max over children)"
