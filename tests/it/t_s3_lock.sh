#!/usr/bin/env bash
# On Ceph RGW: S3 Object Lock and server-side encryption of backups, and
# an encrypted, signed backup read back by the aws CLI, age and ssh-keygen.
#  - a bucket created with Object Lock: the object, the signature and the
#    manifest carry the retention asked for (read back by the aws CLI),
#    deleting a locked version fails, and prune leaves the locked backup
#    whole (skipped, said so) while it deletes an unlocked one;
#  - SSE-KMS with RGW's testing key backend: the objects are stored
#    encrypted under the key named, and read back intact;
#  - a chain whose segments are locked (replicate with the lock flags) while
#    its full backup is not: prune keeps the chain whole and says why;
#  - no byte of a secret put in etcd is in the bucket.
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/rgw.sh"
source "$(dirname "$0")/restore_common.sh"
rgw_start || die "RGW did not start"
K=$T/keys; mkdir -p "$K"
age-keygen -o "$K/k.txt" 2>/dev/null; R=$(age-keygen -y "$K/k.txt")
ssh-keygen -q -t ed25519 -N "" -f "$K/sign"
echo "etcd-backup $(cat "$K/sign.pub")" >"$K/allowed"
etcd_cluster s 1
EP=${CL_URLS[0]}
populate "$EP" 300 || die populate
"$TOP/build/rel/tools/eb_load" "$EP" 80 100000 blob/ >/dev/null || die "load failed" # > 5 MiB: multipart
export EB_S3_PART_SIZE=$((5 * 1048576))
SECRET=SECRET-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
ectl "$EP" put /registry/secrets/default/token "$SECRET" >/dev/null
S3=(--s3-endpoint "$S3_ENDPOINT")
snap() { # URL [flags]: one snapshot; prints its id
	local u=$1; shift
	"$BACKUP" snapshot --endpoints "$EP" --to "$u" "${S3[@]}" --no-progress "$@" >"$T/snap.out" 2>"$T/snap.err" ||
		{ echo "snapshot failed: $(tail -2 "$T/snap.err")" >&2; return 1; }
	sed -n 's/^backup \([^ ]*\) .*/\1/p' "$T/snap.out"
}

CASE=lock
B=bk-lock
s3cli s3api create-bucket --bucket "$B" --object-lock-enabled-for-bucket >/dev/null || die "create lock bucket"
U=s3://$B/etcd
OLD=$(snap "$U" --age-recipient "$R" --sign-key "$K/sign") || die "unlocked snapshot"
t0=$(date -u +%s)
ID=$(snap "$U" --age-recipient "$R" --sign-key "$K/sign" --s3-object-lock-mode governance --s3-object-lock-days 2) ||
	fail lock_snapshot "$(cat "$T/snap.err")"
for o in "$ID.snapshot.db.zst.age" "$ID.manifest.json.sig" "$ID.manifest.json"; do
	ret=$(s3cli s3api get-object-retention --bucket "$B" --key "etcd/$o" --output json 2>&1)
	expect_eq "retention_mode__${o#$ID.}" "$(jq -r .Retention.Mode <<<"$ret" 2>/dev/null)" GOVERNANCE
	until=$(date -u -d "$(jq -r .Retention.RetainUntilDate <<<"$ret" 2>/dev/null)" +%s 2>/dev/null || echo 0)
	d=$((until - t0 - 2 * 86400))
	check "retention_two_days__${o#$ID.}" test "$d" -ge -5 -a "$d" -le 120
done
VID=$(s3cli s3api head-object --bucket "$B" --key "etcd/$ID.manifest.json" --output json | jq -r '.VersionId // empty')
check manifest_has_version_id test -n "$VID"
out=$(s3cli s3api delete-object --bucket "$B" --key "etcd/$ID.manifest.json" --version-id="${VID:-none}" 2>&1); rc=$?
check locked_version_delete_fails test "$rc" -ne 0
expect_match locked_version_delete_says "$out" 'AccessDenied'
check locked_version_still_there s3cli s3api head-object --bucket "$B" --key "etcd/$ID.manifest.json" --version-id="${VID:-none}"
expect_match lock_object_is_multipart "$(s3cli s3api head-object --bucket "$B" --key "etcd/$ID.snapshot.db.zst.age" --output json | jq -r .ETag)" '-[0-9]+"$'
out=$("$BACKUP" prune --from "$U" "${S3[@]}" --keep-last 1 2>&1)
expect_eq prune_deletes_unlocked "$(s3cli s3 ls "s3://$B/etcd/$OLD" | wc -l)" 0
# keep-last 1 kept the newest ($ID); a newer one makes the locked one due:
NEW=$(snap "$U" --age-recipient "$R" --sign-key "$K/sign") || die "third snapshot"
out=$("$BACKUP" prune --from "$U" "${S3[@]}" --keep-last 1 2>&1); rc=$?
expect_eq prune_exit_0 "$rc" 0
expect_match prune_says_locked "$out" "keeping $ID: S3 Object Lock retains it until"
ls_ids=$("$BACKUP" list --from "$U" "${S3[@]}" -o json | jq -r '.[].id' | sort | tr '\n' ' ')
expect_eq prune_left_locked_and_newest "$ls_ids" "$(printf '%s\n' "$ID" "$NEW" | sort | tr '\n' ' ')"
expect_eq locked_backup_whole "$(s3cli s3 ls "s3://$B/etcd/$ID" | wc -l)" 3
check locked_backup_verifies "$BACKUP" verify --from "$U" "${S3[@]}" --backup "$ID" --age-identity "$K/k.txt" --trusted-keys "$K/sign.pub"

CASE=lock_chain
# a chain whose segments are locked (replicate --s3-object-lock-*) while its
# full backup is not: prune keeps the whole chain instead of failing half-way
U2=s3://$B/chain
A=$(snap "$U2" --age-recipient "$R") || die "chain base snapshot"
rep() { # flags: replicate until a segment after the current revision is committed
	local want; want=$(revision "$EP")
	"$BACKUP" replicate --endpoints "$EP" --to "$U2" "${S3[@]}" --age-recipient "$R" --segment-interval 1s "$@" >>"$T/rep.log" 2>&1 &
	local p=$!
	track_pid "$p"
	for _ in $(seq 100); do grep -q "holding the lock" "$T/rep.log" && break; sleep 0.1; done
	for i in 1 2 3; do ectl "$EP" put "/chain/$i" "v$i" >/dev/null; done
	for _ in $(seq 100); do
		s3cli s3 ls "$U2/" | grep -q "\.seg\.$((want + 1))-.*\.segment\.json$" && break
		sleep 0.2
	done
	kill -TERM "$p"; wait "$p"
	: >"$T/rep.log"
}
rep --s3-object-lock-mode governance --s3-object-lock-days 1
SEGM=$(s3cli s3 ls "$U2/" | awk '{ print $4 }' | grep "^$A\.seg\..*\.segment\.json$" | tail -1)
check chain_segment_written test -n "$SEGM"
expect_eq chain_segment_locked "$(s3cli s3api get-object-retention --bucket "$B" --key "chain/$SEGM" --output json 2>/dev/null | jq -r .Retention.Mode)" GOVERNANCE
# a newer chain takes over: etcd compacts past the locked chain's end while
# replicate is down, so the next start records a GAP and takes a new full
for i in 1 2 3; do ectl "$EP" put "/chain/gap$i" "v$i" >/dev/null; done
ectl "$EP" compact "$(revision "$EP")" >/dev/null
rep   # the new full's chain: unlocked, and the live one
NEWER=$("$BACKUP" list --from "$U2" "${S3[@]}" -o json | jq -r '.[0].id')
check chain_new_full_after_gap test -n "$NEWER" -a "$NEWER" != "$A"
out=$("$BACKUP" prune --from "$U2" "${S3[@]}" --keep-last 1 2>&1); rc=$?
expect_eq chain_prune_exit_0 "$rc" 0
expect_match chain_prune_keeps_locked_chain "$out" "keeping $A: S3 Object Lock retains it until"
expect_eq chain_locked_chain_whole "$(s3cli s3 ls "$U2/$A" | grep -c '\.segment\.json$')" "$(s3cli s3 ls "$U2/$A" | grep -c '\.seg\..*\.zst\.age$')"
check chain_locked_chain_verifies "$BACKUP" verify --from "$U2" "${S3[@]}" --backup "$A" --age-identity "$K/k.txt"
check chain_newer_kept [ -n "$("$BACKUP" list --from "$U2" "${S3[@]}" -o json | jq -r --arg n "$NEWER" '.[] | select(.id == $n) | .id')" ]

CASE=kms
B2=bk-kms
s3cli s3 mb "s3://$B2" >/dev/null || die "make bucket"
U2=s3://$B2/etcd
ID2=$(snap "$U2" --age-recipient "$R" --sign-key "$K/sign" --s3-sse aws:kms --s3-sse-kms-key-id testkey-1) ||
	fail kms_snapshot "$(cat "$T/snap.err")"
for o in "$ID2.snapshot.db.zst.age" "$ID2.manifest.json"; do
	h=$(s3cli s3api head-object --bucket "$B2" --key "etcd/$o" --output json 2>&1)
	expect_eq "kms_encrypted__${o#$ID2.}" "$(jq -r '.ServerSideEncryption + " " + .SSEKMSKeyId' <<<"$h")" "aws:kms testkey-1"
done
check kms_verifies "$BACKUP" verify --from "$U2" "${S3[@]}" --backup "$ID2" --age-identity "$K/k.txt" --trusted-keys "$K/sign.pub"
out=$("$BACKUP" snapshot --endpoints "$EP" --to "$U2" "${S3[@]}" --no-progress --s3-sse aws:kms --s3-sse-kms-key-id no-such-key 2>&1); rc=$?
check kms_unknown_key_fails test "$rc" -ne 0
expect_eq kms_unknown_key_leaves_nothing "$("$BACKUP" list --from "$U2" "${S3[@]}" -o json | jq length)" 1

# SSE-S3 (AES256): applied, or refused because the server does not apply
# it (then nothing of the run is left); never claimed and not done
n0=$(s3cli s3 ls "s3://$B2/etcd/" | wc -l)
out=$("$BACKUP" snapshot --endpoints "$EP" --to "$U2" "${S3[@]}" --no-progress --s3-sse AES256 --age-recipient "$R" 2>&1); rc=$?
if [ "$rc" = 0 ]; then
	ID3=$(sed -n 's/^backup \([^ ]*\) .*/\1/p' <<<"$out")
	expect_eq sse_s3_applied "$(s3cli s3api head-object --bucket "$B2" --key "etcd/$ID3.snapshot.db.zst.age" --output json | jq -r .ServerSideEncryption)" AES256
else
	expect_match sse_s3_refused_says "$out" "s3-sse AES256 was asked, but the server answered"
	expect_eq sse_s3_refused_leaves_nothing "$(s3cli s3 ls "s3://$B2/etcd/" | wc -l)" "$n0"
fi

CASE=hidden
# #17.6: a plain DELETE of the newest manifest in a versioned, locked bucket
# leaves a delete marker over the kept version: list and verify report it,
# and no form of latest moves to the older backup in silence
U3=s3://$B/hid
H1=$(snap "$U3" --age-recipient "$R" --s3-object-lock-mode governance --s3-object-lock-days 1) || die "hidden: first snapshot"
ectl "$EP" put /hid/k v >/dev/null
H2=$(snap "$U3" --age-recipient "$R" --s3-object-lock-mode governance --s3-object-lock-days 1) || die "hidden: second snapshot"
s3cli s3api delete-object --bucket "$B" --key "hid/$H2.manifest.json" >/dev/null || die "plain delete"
out=$("$BACKUP" list --from "$U3" "${S3[@]}" 2>&1)
expect_match hidden_listed "$out" "$H2.manifest.json +HIDDEN: its current version is a delete marker"
expect_eq hidden_listed_json "$("$BACKUP" list --from "$U3" "${S3[@]}" -o json 2>/dev/null | jq -r '.[] | select(.hidden) | .manifest')" "$H2.manifest.json"
out=$("$BACKUP" verify --from "$U3" "${S3[@]}" --backup all 2>&1); rc=$?
expect_eq hidden_verify_all_exit_5 "$rc" 5
expect_match hidden_verify_all_row "$out" "$H2 +FAILED: manifest $H2.manifest.json is hidden"
"$BACKUP" verify --from "$U3" "${S3[@]}" >/dev/null 2>&1; rc=$?
expect_eq hidden_verify_latest_exit_5 "$rc" 5
for form in "--backup latest" "--to-latest" ""; do
	name=hidden_restore_$(echo "${form:-store_alone}" | sed 's/[^a-z]/_/g; s/__*/_/g; s/^_//')
	# shellcheck disable=SC2086
	out=$("$RESTORE" --from "$U3" "${S3[@]}" $form --age-identity "$K/k.txt" --data-dir "$T/hid.etcd" 2>&1); rc=$?
	expect_eq "${name}_exit_5" "$rc $([ -e "$T/hid.etcd" ] && echo written)" "5 "
	expect_match "${name}_names_it" "$out" "manifest $H2.manifest.json is hidden"
done
check hidden_older_by_id_still_verifies "$BACKUP" verify --from "$U3" "${S3[@]}" --backup "$H1" --age-identity "$K/k.txt"
# a hidden manifest older than a visible backup is a deleted backup (prune, a
# lifecycle rule): it changes nothing
ectl "$EP" put /hid/k2 v >/dev/null
H3=$(snap "$U3" --age-recipient "$R") || die "hidden: third snapshot"
out=$("$BACKUP" verify --from "$U3" "${S3[@]}" --age-identity "$K/k.txt" 2>&1); rc=$?
expect_eq hidden_older_than_newest_ignored "$rc" 0
expect_match hidden_latest_is_newest_visible "$out" "^$H3 +OK"

CASE=sse_cleanup
# #17.4: SSE asked for and not applied by the server (RGW here has no SSE-S3
# backend): nothing of the run stays, not even in a versioned bucket (no
# unencrypted version behind a delete marker) nor as an open upload
B3=bk-ver
s3cli s3api create-bucket --bucket "$B3" >/dev/null || die "make versioned bucket"
s3cli s3api put-bucket-versioning --bucket "$B3" --versioning-configuration Status=Enabled || die "versioning"
MEP=$EP
etcd_cluster small 1
put_keys "${CL_URLS[0]}" s/ 10 || die "small put"
# what stays under a prefix: versions + delete markers, and open uploads (the
# CLI prints nothing when there are none; a failed listing fails the count)
left_versions() { local j; j=$(s3cli s3api list-object-versions --bucket "$B3" --prefix "$1" --output json) || { echo error; return; }
	jq '[(.Versions // [])[], (.DeleteMarkers // [])[]] | length' <<<"${j:-{\}}"; }
left_uploads() { local j; j=$(s3cli s3api list-multipart-uploads --bucket "$B3" --prefix "$1" --output json) || { echo error; return; }
	jq '(.Uploads // []) | length' <<<"${j:-{\}}"; }
for what in "single:${CL_URLS[0]}" "multipart:$MEP"; do
	w=${what%%:*}
	out=$("$BACKUP" snapshot --endpoints "${what#*:}" --to "s3://$B3/$w" "${S3[@]}" --no-progress --s3-sse AES256 2>&1); rc=$?
	check "sse_refused_${w}_fails" test "$rc" -ne 0
	expect_match "sse_refused_${w}_says" "$out" "s3-sse AES256 was asked, but the server answered server-side encryption 'none'.*nothing was kept"
	expect_eq "sse_refused_${w}_no_version_left" "$(left_versions "$w/")" 0
	expect_eq "sse_refused_${w}_no_upload_left" "$(left_uploads "$w/")" 0
done
# the listings see what is there: a version, a delete marker, an open upload
echo control >"$T/control"; s3cli s3api put-object --bucket "$B3" --key control/x --body "$T/control" >/dev/null
s3cli s3api delete-object --bucket "$B3" --key control/x >/dev/null
s3cli s3api create-multipart-upload --bucket "$B3" --key control/y >/dev/null
expect_eq sse_listing_control "$(left_versions control/) $(left_uploads control/)" "2 1"

CASE=tools
# the aws CLI downloads; age and zstd decrypt; ssh-keygen checks the signature
s3cli s3 cp "s3://$B2/etcd/$ID2.snapshot.db.zst.age" "$T/obj.age" >/dev/null
s3cli s3 cp "s3://$B2/etcd/$ID2.manifest.json" "$T/m.json" >/dev/null
s3cli s3 cp "s3://$B2/etcd/$ID2.manifest.json.sig" "$T/m.json.sig" >/dev/null
age -d -i "$K/k.txt" "$T/obj.age" | zstd -dq >"$T/plain.db"
expect_eq aws_age_zstd_roundtrip "$(sha256sum <"$T/plain.db" | cut -d' ' -f1)" "$(jq -r .snapshot_sha256 "$T/m.json")"
out=$(ssh-keygen -Y verify -f "$K/allowed" -I etcd-backup -n etcd-backup -s "$T/m.json.sig" <"$T/m.json" 2>&1)
expect_match ssh_keygen_verifies_s3_manifest "$out" '^Good "etcd-backup" signature'
mkdir -p "$T/dump"; s3cli s3 cp --recursive "s3://$B/" "$T/dump/lock" >/dev/null; s3cli s3 cp --recursive "s3://$B2/" "$T/dump/kms" >/dev/null
check no_secret_in_buckets bash -c "! grep -rqa -- '$SECRET' '$T/dump'"
P=http://127.0.0.1:$(free_port)
check restore_from_s3_encrypted_signed "$RESTORE" --from "$U2" "${S3[@]}" --backup "$ID2" --age-identity "$K/k.txt" \
	--trusted-keys "$K/allowed" --name s1 --initial-cluster "s1=$P" --initial-advertise-peer-urls "$P" --data-dir "$T/r"
exit 0
