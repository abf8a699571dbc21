#!/usr/bin/env bash
# SIGTERM and SIGINT stop every long operation within about a second, in
# the middle of moving data: snapshot to a local store and to S3, get,
# verify and etcd-restore from S3.  Each run exits 143 (SIGTERM) or 130
# (SIGINT), leaves no object, manifest, temp file, temp dir or pending
# multipart upload, and the store still verifies afterwards.  The data is
# slowed down by tests/tools/faultproxy.py (slow / slowresp) so that the
# signal arrives while bytes flow: a run that ignored it would finish and
# exit 0.
# san: yes
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/rgw.sh"
rgw_start || die "RGW did not start"
B=bk-sig
s3cli s3 mb "s3://$B" >/dev/null || die "make bucket"
MiB=1048576
export EB_S3_PART_SIZE=$((5 * MiB))
U="s3://$B/sig"

etcd_cluster s 1
EP=${CL_URLS[0]}
"$TOP/build/rel/tools/eb_load" "$EP" 60 300000 blob/ || die "load failed" # ~18 MB, incompressible
ETCD_PORT=${EP##*:}

# stop_after SECONDS SIGNAL CMD...: runs CMD in the background, sends the
# signal after SECONDS, and sets RC (its exit code) and WAITED (seconds
# from the signal to its exit, 0.1 s steps; 99 if it outlived 10 s).
stop_after() {
	local secs=$1 sig=$2 pid t; shift 2
	"$@" >"$T/run.out" 2>"$T/run.err" &
	pid=$!
	sleep "$secs"
	kill -0 "$pid" 2>/dev/null || { wait "$pid"; RC=$?; WAITED=-1; return; }
	kill "-$sig" "$pid"
	for t in $(seq 0 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	WAITED=$(awk -v t="$t" 'BEGIN { printf "%.1f", t / 10 }')
	[ "$t" -ge 100 ] && { kill -KILL "$pid"; WAITED=99; }
	wait "$pid"; RC=$?
}
# stopped_in_time NAME WANT_RC: the run was still moving data when the
# signal came, exited WANT_RC, within 2 s of it.
stopped_in_time() {
	if [ "$WAITED" = -1 ]; then
		fail "$1" "finished (exit $RC) before the signal: the slow link was not slow enough"; return
	fi
	expect_eq "${1}__exit_code" "$RC" "$2"
	if awk -v w="$WAITED" 'BEGIN { exit !(w <= 2.0) }'; then pass "${1}__within_2s"; else
		fail "${1}__within_2s" "took ${WAITED}s after the signal"; fi
	expect_match "${1}__says_interrupted" "$(cat "$T/run.err")" "interrupted by SIG"
}

CASE=local_snapshot
faultproxy_start "slowresp 100 2000000" "$ETCD_PORT"
EPP=http://127.0.0.1:$PP
stop_after 2 TERM "$BACKUP" snapshot --endpoints "$EPP" --to "$T/store" --no-progress
stopped_in_time local_snapshot 143
expect_eq local_snapshot__store_empty "$(ls -A "$T/store" 2>/dev/null)" ""
stop_after 2 INT "$BACKUP" snapshot --endpoints "$EPP" --to "$T/store" --no-progress
stopped_in_time local_snapshot_sigint 130
expect_eq local_snapshot_sigint__store_empty "$(ls -A "$T/store" 2>/dev/null)" ""

# encrypted and signed: the age stage and the signature step stop the same
# way; neither the object, nor a signature, nor a manifest is left
age-keygen -o "$T/k.txt" 2>/dev/null; ssh-keygen -q -t ed25519 -N "" -f "$T/sign"
stop_after 2 TERM "$BACKUP" snapshot --endpoints "$EPP" --to "$T/store" --no-progress \
	--age-recipient "$(age-keygen -y "$T/k.txt")" --sign-key "$T/sign"
stopped_in_time local_snapshot_encrypted 143
expect_eq local_snapshot_encrypted__store_empty "$(ls -A "$T/store" 2>/dev/null)" ""

CASE=s3_snapshot
faultproxy_start "slow 100 3000000"
S3P=http://127.0.0.1:$PP
stop_after 2 TERM "$BACKUP" snapshot --endpoints "$EP" --to "$U" --s3-endpoint "$S3P" --no-progress
stopped_in_time s3_snapshot 143
expect_eq s3_snapshot__no_object "$(object_count "$B" sig/)" 0
expect_eq s3_snapshot__upload_aborted "$(pending_uploads "$B")" 0

CASE=s3_reads
out=$("$BACKUP" snapshot --endpoints "$EP" --to "$U" --s3-endpoint "$S3_ENDPOINT" --no-progress 2>"$T/e") ||
	die "setup snapshot failed: $(cat "$T/e")"
ID=$(sed -n 's/^backup \([^ ]*\) .*/\1/p' <<<"$out")
faultproxy_start "slowresp 100 2000000"
S3P=http://127.0.0.1:$PP
mkdir -p "$T/get"
stop_after 2 TERM "$BACKUP" get --from "$U" --s3-endpoint "$S3P" --backup "$ID" --output "$T/get/snap.db"
stopped_in_time s3_get 143
expect_eq s3_get__no_output_no_temp "$(ls -A "$T/get")" ""
stop_after 2 TERM "$BACKUP" verify --from "$U" --s3-endpoint "$S3P" --backup "$ID"
stopped_in_time s3_verify 143
mkdir -p "$T/rs"
stop_after 2 TERM "$RESTORE" --from "$U" --s3-endpoint "$S3P" --backup "$ID" --data-dir "$T/rs/m.etcd"
stopped_in_time s3_restore 143
expect_eq s3_restore__no_data_dir_no_temp "$(ls -A "$T/rs")" ""

CASE=after
# the store is intact: the one backup verifies, nothing else is there
check after__backup_verifies "$BACKUP" verify --from "$U" --s3-endpoint "$S3_ENDPOINT" --backup all
expect_eq after__only_the_backup "$(object_count "$B" sig/)" 2
[ "$_NFAIL" -eq 0 ]
