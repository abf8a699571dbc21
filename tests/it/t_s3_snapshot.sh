#!/usr/bin/env bash
# End to end: real etcd -> etcd-backup snapshot --to s3:// -> Ceph RGW.
# The object read back with the aws CLI and decompressed with the zstd CLI
# is byte-identical to 'etcdctl snapshot save' and etcd restores from it;
# a database several parts large goes up as a multipart upload; list/get
# from S3; etcd killed mid-stream, a wrong secret or an unknown key leave
# no object, no manifest and no pending multipart upload; prune on S3 with
# backups of known timestamps, --dry-run deleting nothing.
# tsan: yes
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/rgw.sh"
rgw_start || die "RGW did not start"
B=bk-snap
s3cli s3 mb "s3://$B" >/dev/null || die "make bucket"
MiB=1048576
export EB_S3_PART_SIZE=$((5 * MiB))
S3F=(--s3-endpoint "$S3_ENDPOINT")
U="s3://$B/prod/cluster-1"

etcd_cluster s 1
EP=${CL_URLS[0]}
put_keys "$EP" key/ 20
ectl "$EP" put "key with spaces" "välue ünïcode" >/dev/null
"$TOP/build/rel/tools/eb_load" "$EP" 60 300000 blob/ || die "load failed"
REV=$(revision "$EP")

CASE=snapshot
ectl "$EP" snapshot save "$T/ctl.db" >/dev/null 2>&1 || die "etcdctl snapshot save failed"
out=$("$BACKUP" snapshot --endpoints "$EP" --to "$U" "${S3F[@]}" --no-progress 2>"$T/err"); rc=$?
expect_eq snapshot-exit-0 "$rc" 0
ID=$(sed -n 's/^backup \([^ ]*\) .*/\1/p' <<<"$out")
[ -n "$ID" ] || die "no backup id in '$out' $(cat "$T/err")"
s3cli s3 cp "$U/$ID.snapshot.db.zst" "$T/obj.zst" >/dev/null 2>&1
check aws-readback-zstd-equals-etcdctl bash -c "zstd -dc '$T/obj.zst' | cmp - '$T/ctl.db'"
etag=$(s3cli s3api head-object --bucket "$B" --key "prod/cluster-1/$ID.snapshot.db.zst" --query ETag --output text)
expect_match multipart-etag "$etag" '-[4-9]"?$'
expect_eq manifest-present "$(object_count "$B" "prod/cluster-1/$ID.manifest.json")" 1
s3cli s3 cp "$U/$ID.manifest.json" "$T/m.json" >/dev/null 2>&1
expect_eq manifest-stored-sha256 "$(jq -r .stored_sha256 "$T/m.json")" "$(sha256sum "$T/obj.zst" | cut -d' ' -f1)"
expect_eq no-pending-upload "$(pending_uploads "$B")" 0

CASE=restore
zstd -dc "$T/obj.zst" >"$T/snap.db"
eutl snapshot restore "$T/snap.db" --name r1 --data-dir "$T/restored" \
	--initial-cluster r1=http://127.0.0.1:1 --initial-advertise-peer-urls http://127.0.0.1:1 >/dev/null 2>&1
check etcdctl-restores-from-s3-object test -d "$T/restored/member"
RP=$(free_port)
etcd --name r1 --data-dir "$T/restored" --listen-client-urls "http://127.0.0.1:$RP" \
	--advertise-client-urls "http://127.0.0.1:$RP" --listen-peer-urls "http://127.0.0.1:$(free_port)" \
	>"$T/r1.log" 2>&1 &
track_pid $!
for _ in $(seq 100); do ectl "http://127.0.0.1:$RP" endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
expect_eq restored-etcd-same-keys "$(dump_kv "http://127.0.0.1:$RP" | md5sum)" "$(dump_kv "$EP" | md5sum)"

CASE=list-get
expect_match list-from-s3 "$("$BACKUP" list --from "$U" "${S3F[@]}")" "^$ID "
check get-from-s3 "$BACKUP" get --from "$U" "${S3F[@]}" --backup latest --output "$T/got.db"
check get-equals-etcdctl cmp "$T/got.db" "$T/ctl.db"
AWS_ENDPOINT_URL_S3=$S3_ENDPOINT "$BACKUP" get --from "$U" --backup "$ID" --output "$T/got2.db" 2>/dev/null
check endpoint-from-env cmp "$T/got2.db" "$T/ctl.db"

CASE=etcd-restore-from-s3
P=http://127.0.0.1:$(free_port)
out=$(AWS_ENDPOINT_URL_S3=$S3_ENDPOINT "$RESTORE" --from "$U" --backup latest --name s2 \
	--initial-cluster "s2=$P" --initial-advertise-peer-urls "$P" --data-dir "$T/s2" 2>&1)
check etcd-restore-from-s3 test -d "$T/s2/member"
[ -d "$T/s2/member" ] || echo "$out" | tail -3
out=$("$RESTORE" --from "$U" --backup "$ID" "${S3F[@]}" --name s3 \
	--initial-cluster "s3=$P" --initial-advertise-peer-urls "$P" --data-dir "$T/s3" 2>&1)
check etcd-restore-from-s3-with-flag test -d "$T/s3/member"
[ -d "$T/s3/member" ] || echo "$out" | tail -3

CASE=snapshot-keep-last
sleep 1 # a new backup id (second resolution)
out=$("$BACKUP" snapshot --endpoints "$EP" --to "$U" "${S3F[@]}" --no-progress --keep-last 1 2>&1); rc=$?
expect_eq snapshot-keep-last-exit-0 "$rc" 0
ids=$("$BACKUP" list --from "$U" "${S3F[@]}" -o json | jq -r '.[].id')
expect_eq snapshot-keep-last-one-backup-left "$(echo "$ids" | wc -l)" 1
[ "$ids" != "$ID" ] && pass snapshot-keep-last-kept-newest || fail snapshot-keep-last-kept-newest "kept $ids"
expect_eq snapshot-keep-last-two-objects "$(object_count "$B" prod/cluster-1/)" 2
ID=$ids
s3cli s3 cp "$U/$ID.manifest.json" "$T/m.json" >/dev/null 2>&1

CASE=bad-keys
out=$(AWS_SECRET_ACCESS_KEY=wrong-secret-0123 "$BACKUP" snapshot --endpoints "$EP" --to "s3://$B/bad" "${S3F[@]}" --no-progress 2>&1); rc=$?
[ $rc -ne 0 ] && pass wrong-secret-exit-nonzero || fail wrong-secret-exit-nonzero "exit 0"
expect_match wrong-secret-message "$out" 'SignatureDoesNotMatch: the secret key is wrong for access key TESTACCESSKEY0000001'
[[ "$out" != *wrong-secret-0123* ]] && pass wrong-secret-not-printed || fail wrong-secret-not-printed "secret printed"
out=$(AWS_ACCESS_KEY_ID=NOSUCHKEY0000000000X "$BACKUP" snapshot --endpoints "$EP" --to "s3://$B/bad" "${S3F[@]}" --no-progress 2>&1); rc=$?
[ $rc -ne 0 ] && pass unknown-key-exit-nonzero || fail unknown-key-exit-nonzero "exit 0"
expect_match unknown-key-message "$out" 'InvalidAccessKeyId'
expect_eq bad-keys-no-object "$(object_count "$B" bad/)" 0
expect_eq bad-keys-no-pending-upload "$(pending_uploads "$B")" 0

CASE=etcd-killed
# A slow link (3 MB/s through the proxy) keeps the upload behind the
# stream, and 60 MB more data makes the stream outlast every buffer on the
# way (part buffers, gRPC windows), so etcd dies while the snapshot is in
# flight.
"$TOP/build/rel/tools/eb_load" "$EP" 200 300000 more/ || die "load failed"
faultproxy_start "slow 1000 3000000" || die "faultproxy did not start"
"$BACKUP" snapshot --endpoints "$EP" --to "s3://$B/killed" --s3-endpoint "http://127.0.0.1:$PP" \
	--no-progress >"$T/killed.out" 2>&1 &
bpid=$!
for _ in $(seq 100); do [ "$(pending_uploads "$B")" -ge 1 ] && break; sleep 0.1; done
expect_eq killed-upload-was-in-flight "$(pending_uploads "$B")" 1
kill -KILL "${CL_PIDS[0]}"
wait $bpid; rc=$?
[ $rc -ne 0 ] && pass killed-exit-nonzero || fail killed-exit-nonzero "exit 0: $(cat "$T/killed.out")"
expect_eq killed-no-object "$(object_count "$B" killed/)" 0
expect_eq killed-no-pending-upload "$(pending_uploads "$B")" 0

CASE=prune
# Backups with known timestamps: copies of the real one under other ids.
M0=$T/m.json
mk_backup() { # unix-time
	local ts=$1 id
	id="$(date -u -d "@$ts" +%Y%m%dT%H%M%SZ)-r$REV"
	jq --arg id "$id" --arg c "$(date -u -d "@$ts" +%Y-%m-%dT%H:%M:%SZ)" --argjson u "$ts" \
		'.id=$id | .created=$c | .created_unix=$u | (if has("object") then .object=($id+".snapshot.db.zst") else . end)' \
		"$M0" >"$T/mm.json"
	s3cli s3 cp "$U/$ID.snapshot.db.zst" "s3://$B/ret/$id.snapshot.db.zst" >/dev/null 2>&1
	s3cli s3 cp "$T/mm.json" "s3://$B/ret/$id.manifest.json" >/dev/null 2>&1
	echo "$id"
}
now=$(date +%s)
IDS=()
for h in 1 2 3 26 27 50; do IDS+=("$(mk_backup $((now - h * 3600)))"); done
R="s3://$B/ret"
expect_eq prune-setup-listed "$("$BACKUP" list --from "$R" "${S3F[@]}" -o json | jq length)" 6
"$BACKUP" prune --from "$R" "${S3F[@]}" --keep-last 2 --dry-run >/dev/null 2>&1
expect_eq prune-dry-run-deletes-nothing "$(object_count "$B" ret/)" 12
check prune-keep-daily-2 "$BACKUP" prune --from "$R" "${S3F[@]}" --keep-last 1 --keep-daily 2
left=$("$BACKUP" list --from "$R" "${S3F[@]}" -o json | jq -r '.[].id' | sort | tr '\n' ' ')
# keep-last 1: IDS[0]; keep-daily 2: newest of today (IDS[0]) and of the
# previous day that has one (IDS[3]) -- unless the hours straddle midnight
want=$( (echo "${IDS[0]}"; python3 - "$now" "${IDS[@]}" <<'PY'
import sys, datetime
now = int(sys.argv[1]); ids = sys.argv[2:]
hours = [1, 2, 3, 26, 27, 50]
days = []
for h, i in zip(hours, ids):
    d = datetime.datetime.utcfromtimestamp(now - h * 3600).date()
    if d not in [x[0] for x in days]:
        days.append((d, i))
for d, i in days[:2]:
    print(i)
PY
) | sort -u | tr '\n' ' ')
expect_eq prune-kept-per-policy "$left" "$want"
nleft=$(echo "$left" | wc -w)
expect_eq prune-objects-match-manifests "$(object_count "$B" ret/)" $((nleft * 2))

CASE=abort-incomplete
# a crashed run's debris: a multipart upload nobody completes
s3cli s3api create-multipart-upload --bucket "$B" --key "ret/crashed.snapshot.db.zst" >/dev/null
s3cli s3api create-multipart-upload --bucket "$B" --key "elsewhere/other.bin" >/dev/null
"$BACKUP" prune --from "$R" "${S3F[@]}" --keep-last 5 --abort-incomplete-after 1h >/dev/null 2>&1
expect_eq abort-incomplete-young-upload-kept "$(pending_uploads "$B")" 2
sleep 2
"$BACKUP" prune --from "$R" "${S3F[@]}" --keep-last 5 --abort-incomplete-after 1s >/dev/null 2>"$T/ai.err"
expect_eq abort-incomplete-old-upload-aborted "$(pending_uploads "$B")" 1
expect_match abort-incomplete-logged "$(cat "$T/ai.err")" "removed 1 incomplete multipart upload"
exit 0
