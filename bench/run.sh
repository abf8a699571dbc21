#!/usr/bin/env bash
# make bench: every benchmark in bench/ (each prints its own table).
cd "$(dirname "$0")/.." || exit 1
# snapshot and restore against etcd 3.4 and 3.7 (BENCH_ETCD_VERSIONS), each
# as a ratio to that version's etcdctl / etcdutl; S3 once.
for v in ${BENCH_ETCD_VERSIONS:-3.4 3.7}; do
	for b in bench/snapshot.sh bench/restore.sh bench/restore_paths.sh; do
		echo "== $b (etcd $v)"
		BENCH_ETCD_VERSION=$v bash "$b" || echo "$b FAILED"
	done
done
echo "== bench/s3.sh"
bash bench/s3.sh || echo "bench/s3.sh FAILED"
echo "== bench/azure.sh"
bash bench/azure.sh || echo "bench/azure.sh FAILED"
echo "== bench/encrypt.sh"
bash bench/encrypt.sh || echo "bench/encrypt.sh FAILED"
echo "== bench/replicate.sh"
bash bench/replicate.sh || echo "bench/replicate.sh FAILED"
echo "== bench/backlog.sh"
bash bench/backlog.sh || echo "bench/backlog.sh FAILED"
echo "== bench/inspect.sh"
bash bench/inspect.sh || echo "bench/inspect.sh FAILED"
