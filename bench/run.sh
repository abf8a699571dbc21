#!/usr/bin/env bash
# make bench: every benchmark in bench/ (each prints its own table).
cd "$(dirname "$0")/.." || exit 1
for b in bench/snapshot.sh bench/restore.sh bench/s3.sh; do
	[ -x "$b" ] || continue
	echo "== $b"
	bash "$b" || echo "$b FAILED"
done
