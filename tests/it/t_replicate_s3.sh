#!/usr/bin/env bash
# Continuous backup to Ceph RGW, age-encrypted, from a three-member cluster
# whose watched member is killed:
#  - replicate fails over to another member and resumes from the next
#    revision: the chain in the bucket (listed by the aws CLI) has no gap
#    and no revision twice;
#  - every segment read back by the aws CLI decrypts with `age -d` and
#    decompresses with zstd to a segment (EBSEG magic); a secret value put
#    in etcd is in no stored byte;
#  - etcd-restore --to-latest from s3:// with the identity gives what the
#    surviving members serve at that revision (keys, revisions, HashKV);
#    without the identity it is refused, nothing written.
# tsan: yes
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/restore_common.sh"
source "$TOP/tests/rgw.sh"
rgw_start || die "RGW did not start"
B=bk-repl
s3cli s3 mb "s3://$B" >/dev/null || die "make bucket"
S3F=(--s3-endpoint "$S3_ENDPOINT")
U="s3://$B/prod/c1"
age-keygen -o "$T/id.txt" 2>/dev/null || die "age-keygen failed"
RCPT=$(age-keygen -y "$T/id.txt")
SECRET=sEcReT-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')

etcd_cluster f 3
put_keys "${CL_URLS[0]}" base- 20 || die "put failed"
"$BACKUP" replicate --endpoints "$CL_ENDPOINTS" --to "$U" "${S3F[@]}" --age-recipient "$RCPT" \
	--segment-interval 1s >"$T/rep.log" 2>&1 &
REP=$!
track_pid "$REP"
names() { s3cli s3api list-objects-v2 --bucket "$B" --prefix prod/c1/ --query 'Contents[].Key' --output text 2>/dev/null | tr '\t' '\n' | sed 's#^prod/c1/##'; }
segs() { names | sed -n 's/.*\.seg\.\([0-9]*\)-\([0-9]*\)\.segment\.json$/\1 \2/p' | sort -n; }
wait_for() { local what=$1; shift; for _ in $(seq 300); do "$@" && return 0; sleep 0.1; done; echo "timed out: $what" >&2; return 1; }
seg_ends_at() { segs | awk -v r="$1" '$2 == r { f = 1 } END { exit !f }'; }
wait_for "replicate to hold the lock" grep -q "holding the lock" "$T/rep.log" || die "replicate did not start: $(tail -3 "$T/rep.log")"
wait_for "the full backup" grep -q "full backup .* at revision" "$T/rep.log" || die "no full backup: $(tail -3 "$T/rep.log")"
FULL_REV=$(sed -n 's/.*full backup .* at revision \([0-9]*\).*/\1/p' "$T/rep.log" | head -1)

CASE=failover
watched=$(sed -n 's/.*watching \([^ ]*\) (member.*/\1/p' "$T/rep.log" | head -1)
for i in 0 1 2; do [ "${CL_URLS[$i]}" = "$watched" ] && W=$i; done
[ -n "${W:-}" ] || die "which member is watched? $(grep watching "$T/rep.log")"
O=$(((W + 1) % 3))
ectl "${CL_URLS[$O]}" put /secret "$SECRET" >/dev/null
for i in $(seq 0 9); do ectl "${CL_URLS[$O]}" put "/before-kill/$i" x >/dev/null; done
stop_pid "${CL_PIDS[$W]}"
for i in $(seq 0 19); do ectl "${CL_URLS[$O]}" put "/after-kill/$i" y >/dev/null; done
ectl "${CL_URLS[$O]}" del --prefix /before-kill/ >/dev/null
LAST=$(revision "${CL_URLS[$O]}")
check failover_reconnected wait_for "a reconnect" grep -q "reconnecting" "$T/rep.log"
check failover_segment_reaches_last wait_for "a segment ending at $LAST" seg_ends_at "$LAST"
expect_match failover_watches_another "$(sed -n 's/.*watching \([^ ]*\) (member.*/\1/p' "$T/rep.log" | tail -1)" "^http://127.0.0.1:[0-9]+$"
check failover_not_the_dead_one [ "$(sed -n 's/.*watching \([^ ]*\) (member.*/\1/p' "$T/rep.log" | tail -1)" != "$watched" ]
kill -TERM "$REP"; wait "$REP"; rc=$?
expect_eq replicate_sigterm_exit_0 "$rc" 0
END=$(segs | tail -1 | awk '{ print $2 }')
check failover_chain_contiguous python3 -c '
import sys
full, last = int(sys.argv[1]), int(sys.argv[2])
prev = full
for line in open(sys.argv[3]).read().split("\n"):
    if line:
        f, l = map(int, line.split())
        assert f == prev + 1, ("gap or duplicate", f, prev)
        prev = l
assert prev == last' "$FULL_REV" "$END" <(segs)

CASE=encrypted
SEG=$(names | grep '\.seg\..*\.zst\.age$' | head -1)
check segment_object_is_age [ -n "$SEG" ]
s3cli s3 cp "$U/$SEG" "$T/seg.age" >/dev/null 2>&1
expect_eq segment_age_zstd_readback "$(age -d -i "$T/id.txt" "$T/seg.age" | zstd -dc | head -c 5)" EBSEG
mkdir -p "$T/all"
for n in $(names); do s3cli s3 cp "$U/$n" "$T/all/$n" >/dev/null 2>&1; done
check secret_in_no_stored_byte bash -c '! grep -rqa -- "$1" "$2"' _ "$SECRET" "$T/all"
out=$("$RESTORE" --from "$U" "${S3F[@]}" --to-latest --data-dir "$T/nokey" 2>&1); rc=$?
expect_eq restore_without_identity_refused "$rc $([ -e "$T/nokey" ] && echo written)" "2 "
expect_match restore_without_identity_says "$out" "age-identity"

CASE=restore
peer=http://127.0.0.1:$(free_port)
if "$RESTORE" --from "$U" "${S3F[@]}" --age-identity "$T/id.txt" --to-latest --name r \
	--initial-cluster "r=$peer" --initial-advertise-peer-urls "$peer" --data-dir "$T/r" >"$T/r.out" 2>&1; then
	start_restored r "$T/r" "r=$peer" pitr "$peer"
	wait_healthy "$R_URL" || die "restored etcd did not start"
	expect_eq restored_revision "$(revision "$R_URL")" "$END"
	expect_eq restored_keys_equal_survivor "$(kv_at "$R_URL")" "$(kv_at "${CL_URLS[$O]}" "$END")"
	expect_eq restored_hashkv "$(hashkv "$R_URL" "$END")" "$(hashkv "${CL_URLS[$O]}" "$END")"
	expect_eq restored_secret "$(ectl "$R_URL" get /secret --print-value-only)" "$SECRET"
	expect_match restore_checked_hashkv "$(cat "$T/r.out")" "equal to the cluster's"
else
	fail restore_latest_from_rgw "$(tail -3 "$T/r.out")"
fi
exit $((_NFAIL > 0))
