#!/usr/bin/env bash
# Benchmark for age encryption (issue: encryption and signatures): the
# encrypted snapshot (--age-recipient, --sign-key) against the plain one,
# same etcd, same run, alternating, ROUNDS rounds, to a local store and to
# S3 (Ceph RGW on loopback), for a SIZE MiB database (half JSON-like text,
# half random).  Targets: wall time encrypted/plain <= 1.10, peak RSS no
# more than one chunk (64 KiB, shown as +MiB) above the plain run.
# Env: ROUNDS (3), SIZE (1024).
source "$(dirname "$0")/../tests/lib.sh"
export BENCH_DIR=$T/w
mkdir -p "$BENCH_DIR"
source "$TOP/bench/lib.sh"
trap _cleanup EXIT
ROUNDS=${ROUNDS:-3}
SIZE=${SIZE:-1024}
bench_rgw
age-keygen -o "$W/k.txt" 2>/dev/null; R=$(age-keygen -y "$W/k.txt")
ssh-keygen -q -t ed25519 -N "" -f "$W/sign"
bench_etcd "enc"
fill "$SIZE" >/dev/null || exit 1
dbsize=$(etcdctl --endpoints "$EP" endpoint status -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["dbSize"])')
ENC=(--age-recipient "$R" --sign-key "$W/sign")
printf '%-6s %-10s %8s %10s\n' store mode "wall s" "peak RSS"
for st in local s3; do
	for k in plain age; do : >"$W/$st-$k.t"; : >"$W/$st-$k.r"; done
	for r in $(seq "$ROUNDS"); do
		for k in plain age; do
			if [ $st = local ]; then
				rm -rf "$W/store"; sync; to=("$W/store")
			else
				s3cli s3 rm --recursive s3://bench/ >/dev/null; to=(s3://bench/b --s3-endpoint "$S3_ENDPOINT")
			fi
			extra=(); [ $k = age ] && extra=("${ENC[@]}")
			timed "$st-$k$r" "$TOP/bin/etcd-backup" snapshot --endpoints "$EP" --to "${to[@]}" --no-progress "${extra[@]}"
			echo "$SECS" >>"$W/$st-$k.t"; echo "$RSS_MB" >>"$W/$st-$k.r"
		done
	done
	pt=$(median <"$W/$st-plain.t"); et=$(median <"$W/$st-age.t")
	pr=$(sort -g "$W/$st-plain.r" | tail -1); er=$(sort -g "$W/$st-age.r" | tail -1)
	printf '%-6s %-10s %8s %8s M\n' "$st" plain "$pt" "$pr"
	printf '%-6s %-10s %8s %8s M\n' "$st" "age+sign" "$et" "$er"
	awk -v e="$et" -v p="$pt" -v er="$er" -v pr="$pr" -v s="$st" -v l="$((dbsize / 1048576))MiB" 'BEGIN {
		printf "%-6s %s: time ratio age/plain = %.2f (target <= 1.10), RSS +%.1f MiB (target: one 64 KiB chunk)\n", s, l, e/p, er-pr }'
done
