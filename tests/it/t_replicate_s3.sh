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
#    without the identity it is refused, nothing written;
#  - segments are signed (--sign-key): restores and verify with
#    --trusted-keys accept the chain; a forged segment planted after it
#    (encrypted to our recipient, every digest right, unsigned) is refused
#    with exit 4 and nothing written (without --trusted-keys it would be
#    applied: why signatures matter).
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
ssh-keygen -q -t ed25519 -N "" -C etcd-backup -f "$T/sign" || die "ssh-keygen failed"

etcd_cluster f 3
put_keys "${CL_URLS[0]}" base- 20 || die "put failed"
"$BACKUP" replicate --endpoints "$CL_ENDPOINTS" --to "$U" "${S3F[@]}" --age-recipient "$RCPT" --sign-key "$T/sign" \
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
if "$RESTORE" --from "$U" "${S3F[@]}" --age-identity "$T/id.txt" --trusted-keys "$T/sign.pub" --to-latest --name r \
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

CASE=signed
check segments_signed bash -c '[ "$(names | grep -c "\.segment\.json\.sig$")" = "$(names | grep -c "\.segment\.json$")" ]'
s3cli s3 cp "$U/$(names | grep '\.segment\.json$' | head -1)" "$T/sm.json" >/dev/null 2>&1
s3cli s3 cp "$U/$(names | grep '\.segment\.json$' | head -1).sig" "$T/sm.json.sig" >/dev/null 2>&1
check segment_signature_ssh_keygen bash -c 'printf "etcd-backup %s\n" "$(cat "$1")" >"$2" &&
	ssh-keygen -Y verify -f "$2" -I etcd-backup -n etcd-backup -s "$3.sig" <"$3" >/dev/null 2>&1' _ "$T/sign.pub" "$T/allowed" "$T/sm.json"
out=$("$BACKUP" verify --from "$U" "${S3F[@]}" --age-identity "$T/id.txt" --trusted-keys "$T/sign.pub" 2>&1); rc=$?
expect_eq verify_signed_chain "$rc" 0
# the attacker writes one more segment after the chain: valid format, digests, encryption
BASE=$(names | sed -n 's/\.seg\.[0-9]*-[0-9]*\.segment\.json$//p' | head -1)
python3 - "$T/forged.seg" "$END" <<'PY'
import struct, sys
prev = int(sys.argv[2]); rev = prev + 1
def pb_bytes(f, b): return bytes([f << 3 | 2, len(b)]) + b
def pb_int(f, v):
    out = bytes([f << 3]); x = v
    while True:
        c = x & 0x7f; x >>= 7
        out += bytes([c | (0x80 if x else 0)])
        if not x: return out
kv = pb_bytes(1, b"/registry/secrets/kube-system/forged") + pb_int(2, rev) + pb_int(3, rev) + pb_int(4, 1) + pb_bytes(5, b"evil")
seg = b"EBSEG\0v1" + struct.pack(">q", prev)
seg += b"P" + struct.pack(">qqI", rev, 1, len(kv)) + kv
seg += b"E" + struct.pack(">qqqq", rev, rev, 1, 0)
open(sys.argv[1], "wb").write(seg)
PY
zstd -q -c "$T/forged.seg" | age -r "$RCPT" >"$T/forged.zst.age"
F=$((END + 1))
python3 - "$T/forged.seg" "$T/forged.zst.age" "$BASE" "$END" "$T/forged.json" <<'PY'
import hashlib, json, os, sys
plain, stored, base, end, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
p, s = open(plain, "rb").read(), open(stored, "rb").read()
json.dump({"format": "etcd-backup-segment/1", "base": base, "object": "%s.seg.%d-%d.zst.age" % (base, end + 1, end + 1),
           "cluster_id": "0", "prev_revision": end, "first_revision": end + 1, "last_revision": end + 1,
           "events": 1, "leases": 0, "first_unix_ms": 1, "last_unix_ms": 1, "compression": "zstd", "encryption": "age",
           "plain_sha256": hashlib.sha256(p).hexdigest(), "plain_size": len(p),
           "stored_sha256": hashlib.sha256(s).hexdigest(), "stored_size": len(s)}, open(out, "w"))
PY
s3cli s3 cp "$T/forged.zst.age" "$U/$BASE.seg.$F-$F.zst.age" >/dev/null 2>&1
s3cli s3 cp "$T/forged.json" "$U/$BASE.seg.$F-$F.segment.json" >/dev/null 2>&1
out=$("$RESTORE" --from "$U" "${S3F[@]}" --age-identity "$T/id.txt" --trusted-keys "$T/sign.pub" --to-latest \
	--data-dir "$T/forged-trusted" 2>&1); rc=$?
expect_eq forged_segment_refused_exit_4 "$rc $([ -e "$T/forged-trusted" ] && echo written)" "4 "
expect_match forged_segment_refusal_says "$out" "seg\.$F-$F\.segment\.json is not signed"
out=$("$BACKUP" verify --from "$U" "${S3F[@]}" --age-identity "$T/id.txt" --trusted-keys "$T/sign.pub" 2>&1); rc=$?
expect_eq verify_forged_chain_refused "$rc" 4
# without --trusted-keys the forgery is applied: signatures are what stop it
out=$("$RESTORE" --from "$U" "${S3F[@]}" --age-identity "$T/id.txt" --to-latest --data-dir "$T/forged-open" 2>&1); rc=$?
expect_eq forged_applied_without_trusted_keys_exit "$rc" 0
expect_match forged_applied_without_trusted_keys "$out" "point in time: revision $F "
exit $((_NFAIL > 0))
