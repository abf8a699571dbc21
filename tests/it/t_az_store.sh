#!/usr/bin/env bash
# azblob:// end to end against Azurite (the Azure Storage emulator), with
# Microsoft's own SDK (tests/tools/azsdk.js) as the oracle: snapshot in
# several blocks, the blob read back by the SDK decompressed by zstd equals
# etcdctl's snapshot; list, get, verify, restore (etcd booted on it), prune;
# replicate and a point-in-time restore; age-encrypted and signed (the SDK's
# copy decrypts with the age CLI); a wrong key and a read-only SAS refused
# with exit 4 and nothing committed; SIGTERM and kill -9 mid-upload commit
# nothing; injected 503s are retried; no key or SAS signature in any output;
# Entra ID tokens over HTTPS (Azurite with OAuth): workload identity from a
# federated token file exchanged at a local token endpoint
# (tests/tools/aztokens.py), refreshed before it expires, a refused
# assertion, and the managed identity (IMDS) of a VM or node.
# san: yes
# tsan: yes
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/restore_common.sh"
source "$TOP/tests/azurite.sh"
azurite_start || die "Azurite did not start: $(tail -3 "$T/azurite/out.log")"
azsdk mkcontainer backups || die "cannot create the container"
U=azblob://$AZ_ACCOUNT/backups/prod
committed() { azsdk ls backups "${1:-prod/}" | wc -l; }

etcd_cluster s 1
EP=${CL_URLS[0]}
put_keys "$EP" key/ 20
ectl "$EP" put "key with spaces" "välue ünïcode" >/dev/null
"$TOP/build/rel/tools/eb_load" "$EP" 60 300000 blob/ >/dev/null || die "load failed" # ~18 MB: 3 blocks
REV=$(revision "$EP")

CASE=snapshot
ectl "$EP" snapshot save "$T/ctl.db" >/dev/null 2>&1 || die "etcdctl snapshot save failed"
out=$("$BACKUP" snapshot --endpoints "$EP" --to "$U" --no-progress --log-level debug 2>"$T/snap.err"); rc=$?
expect_eq snapshot_exit_0 "$rc" 0
ID=$(sed -n 's/^backup \([^ ]*\) .*/\1/p' <<<"$out")
[ -n "$ID" ] || die "no backup id in '$out' $(tail -3 "$T/snap.err")"
expect_eq sdk_sees_object_and_manifest "$(azsdk ls backups prod/ | awk '{print $1}' | sort | tr '\n' ' ')" \
	"prod/$ID.manifest.json prod/$ID.snapshot.db.zst "
azsdk get backups "prod/$ID.snapshot.db.zst" "$T/obj.zst" || die "SDK download"
check sdk_readback_zstd_equals_etcdctl bash -c "zstd -dc '$T/obj.zst' | cmp - '$T/ctl.db'"
azsdk get backups "prod/$ID.manifest.json" "$T/m.json" || die "SDK download"
expect_eq manifest_stored_sha256 "$(jq -r .stored_sha256 "$T/m.json")" "$(sha256sum "$T/obj.zst" | cut -d' ' -f1)"
check no_key_in_debug_log bash -c '! grep -qF -- "$1" "$2"' _ "$AZ_KEY" "$T/snap.err"

CASE=read
expect_match list "$("$BACKUP" list --from "$U")" "^$ID "
check get_equals_etcdctl bash -c '"$1" get --from "$2" --backup latest --output "$3" 2>/dev/null && cmp "$3" "$4"' _ \
	"$BACKUP" "$U" "$T/got.db" "$T/ctl.db"
expect_match verify "$("$BACKUP" verify --from "$U" --backup "$ID" 2>&1)" "^$ID OK"
expect_eq keys_from_azblob "$("$BACKUP" keys key/ --prefix -o json --from "$U" --backup latest | jq '.kvs | length')" 20
P=http://127.0.0.1:$(free_port)
if "$RESTORE" --from "$U" --backup latest --name r1 --initial-cluster "r1=$P" --initial-advertise-peer-urls "$P" \
	--data-dir "$T/r1" >"$T/r1.out" 2>&1; then
	start_restored r1 "$T/r1" "r1=$P" etcd-cluster "$P"
	wait_healthy "$R_URL" || die "etcd on the restored dir did not start"
	expect_eq restored_keys_equal "$(kv_at "$R_URL" | md5sum)" "$(kv_at "$EP" "$REV" | md5sum)"
	expect_eq restored_hashkv_equal "$(hashkv "$R_URL" "$REV")" "$(hashkv "$EP" "$REV")"
	stop_pid "$R_PID"
else
	fail restore_from_azblob "$(tail -3 "$T/r1.out")"
fi

CASE=refused
n0=$(committed)
bad="DefaultEndpointsProtocol=http;AccountName=$AZ_ACCOUNT;AccountKey=$(head -c 64 /dev/urandom | base64 -w0);BlobEndpoint=$AZ_ENDPOINT;"
out=$(AZURE_STORAGE_CONNECTION_STRING=$bad "$BACKUP" snapshot --endpoints "$EP" --to "$U" --no-progress 2>&1); rc=$?
expect_eq wrong_key_exit_4 "$rc" 4
expect_match wrong_key_names_cause "$out" "AuthenticationFailed: the signature did not match"
expect_eq wrong_key_nothing_committed "$(committed)" "$n0"
RO=$(azsdk sas backups rl 30) || die "SAS"
out=$(env -u AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_SAS_TOKEN="$RO" "$BACKUP" list --from "$U" --azure-endpoint "$AZ_ENDPOINT" 2>&1)
expect_match read_only_sas_lists "$out" "^$ID "
out=$(env -u AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_SAS_TOKEN="$RO" "$BACKUP" snapshot --endpoints "$EP" --to "$U" \
	--azure-endpoint "$AZ_ENDPOINT" --no-progress --log-level debug 2>&1); rc=$?
expect_eq read_only_sas_snapshot_exit_4 "$rc" 4
expect_eq read_only_sas_nothing_committed "$(committed)" "$n0"
sig=$(sed -n 's/.*sig=\([^&]*\).*/\1/p' <<<"$RO")
check no_sas_signature_in_output bash -c '[ -n "$1" ] && ! grep -qF -- "$1" <<<"$2"' _ "$sig" "$out"
OLD=$(azsdk sas backups racwdl -5) || die "SAS"
out=$(env -u AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_SAS_TOKEN="$OLD" "$BACKUP" list --from "$U" --azure-endpoint "$AZ_ENDPOINT" 2>&1); rc=$?
expect_eq expired_sas_exit_4 "$rc" 4
expect_match expired_sas_named "$out" "the SAS token \(from AZURE_STORAGE_SAS_TOKEN\) was refused"
RW=$(azsdk sas backups racwdl 30) || die "SAS"
out=$(env -u AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_SAS_TOKEN="$RW" "$BACKUP" snapshot --endpoints "$EP" --to "$U" \
	--azure-endpoint "$AZ_ENDPOINT" --no-progress 2>&1); rc=$?
expect_eq sas_snapshot_exit_0 "$rc" 0
expect_eq sas_snapshot_committed "$(committed)" "$((n0 + 2))"

CASE=interrupted
# a slow link keeps the upload open; SIGTERM and kill -9 then commit nothing
n0=$(committed)
faultproxy_start "slow 100 2000000" "$AZ_PORT"
for sig in TERM KILL; do
	"$BACKUP" snapshot --endpoints "$EP" --to "$U" --azure-endpoint "http://127.0.0.1:$PP/$AZ_ACCOUNT" \
		--no-progress >"$T/int.out" 2>&1 &
	pid=$!
	sleep 2
	kill -"$sig" "$pid"; wait "$pid"; rc=$?
	expect_eq "sig${sig}_exit" "$rc" "$([ $sig = TERM ] && echo 143 || echo 137)"
	expect_eq "sig${sig}_nothing_committed" "$(committed)" "$n0"
done
echo "503 3" >"$CTL"
out=$("$BACKUP" snapshot --endpoints "$EP" --to "$U" --azure-endpoint "http://127.0.0.1:$PP/$AZ_ACCOUNT" --no-progress 2>&1); rc=$?
expect_eq retried_503_exit_0 "$rc" 0
expect_match retried_503_logged "$out" "503 .*retrying \(attempt 2 of"
expect_eq retried_503_committed "$(committed)" "$((n0 + 2))"
# a download cut in the middle resumes where it broke
echo "cutresp 1 3000000" >"$CTL"
check resumed_get_equals_etcdctl bash -c '"$1" get --from "$2" --azure-endpoint "$3" --backup "$4" --output "$5" 2>/dev/null &&
	cmp "$5" "$6"' _ "$BACKUP" "$U" "http://127.0.0.1:$PP/$AZ_ACCOUNT" "$ID" "$T/resumed.db" "$T/ctl.db"
check resumed_get_was_cut grep -q "cut connection after 3000000" "$T/proxy.log"

CASE=two_writers
# two snapshots at once into one prefix: two whole backups, each verified
UT=azblob://$AZ_ACCOUNT/backups/two
"$BACKUP" snapshot --endpoints "$EP" --to "$UT" --no-progress >"$T/w1.out" 2>&1 & w1=$!
"$BACKUP" snapshot --endpoints "$EP" --to "$UT" --no-progress >"$T/w2.out" 2>&1 & w2=$!
wait "$w1"; r1=$?; wait "$w2"; r2=$?
expect_eq two_writers_both_exit_0 "$r1 $r2" "0 0"
for id in $(sed -n 's/^backup \([^ ]*\) .*/\1/p' "$T/w1.out" "$T/w2.out"); do
	expect_match "two_writers_verify_${id: -8}" "$("$BACKUP" verify --from "$UT" --backup "$id" 2>&1)" "^$id OK"
done
expect_eq two_writers_four_blobs "$(azsdk ls backups two/ | wc -l)" 4
# one blob a page: the list follows NextMarker to the end
expect_eq list_pages_one_blob_each "$(EB_S3_LIST_MAX_KEYS=1 "$BACKUP" list --from "$UT" -o json | jq length)" 2
# a prefix with a space and a plus sign: encoded in the URL, signed as such
US="azblob://$AZ_ACCOUNT/backups/odd name+x"
check odd_prefix_snapshot bash -c '"$1" snapshot --endpoints "$2" --to "$3" --no-progress >/dev/null 2>&1' _ "$BACKUP" "$EP" "$US"
expect_eq odd_prefix_sdk_sees "$(azsdk ls backups "odd name+x/" | wc -l)" 2
expect_match odd_prefix_lists "$("$BACKUP" list --from "$US")" "^[0-9]{8}T"

CASE=encrypted
age-keygen -o "$T/id.txt" 2>/dev/null || die "age-keygen failed"
ssh-keygen -q -t ed25519 -N "" -C etcd-backup -f "$T/sign" || die "ssh-keygen failed"
UE=azblob://$AZ_ACCOUNT/backups/enc
out=$("$BACKUP" snapshot --endpoints "$EP" --to "$UE" --age-recipient "$(age-keygen -y "$T/id.txt")" \
	--sign-key "$T/sign" --no-progress 2>&1) || die "encrypted snapshot: $out"
EID=$(sed -n 's/^backup \([^ ]*\) .*/\1/p' <<<"$out")
azsdk get backups "enc/$EID.snapshot.db.zst.age" "$T/obj.age" || die "SDK download of the .age object"
check sdk_readback_age_zstd_equals_etcdctl bash -c "age -d -i '$T/id.txt' '$T/obj.age' | zstd -dc | cmp - '$T/ctl.db'"
check get_decrypts_with_trust bash -c '"$1" get --from "$2" --backup latest --age-identity "$3" --trusted-keys "$4" \
	--output "$5" 2>/dev/null && cmp "$5" "$6"' _ "$BACKUP" "$UE" "$T/id.txt" "$T/sign.pub" "$T/enc.db" "$T/ctl.db"

# someone who can write to the container but holds no key: the object
# replaced behind the signed manifest is refused, nothing is written
azsdk get backups "enc/$EID.snapshot.db.zst.age" "$T/orig.age" || die "SDK download"
head -c "$(stat -c %s "$T/orig.age")" /dev/urandom >"$T/forged.age"
azsdk put backups "enc/$EID.snapshot.db.zst.age" "$T/forged.age" || die "SDK upload"
out=$("$BACKUP" get --from "$UE" --backup latest --age-identity "$T/id.txt" --trusted-keys "$T/sign.pub" \
	--output "$T/forged.db" 2>&1); rc=$?
check forged_object_refused [ "$rc" -ne 0 -a ! -e "$T/forged.db" ]
expect_match forged_object_says_why "$out" "malformed|sha256|digest"

CASE=prune
out=$("$BACKUP" prune --from "$U" --keep-last 1 2>&1); rc=$?
expect_eq prune_exit_0 "$rc" 0
expect_eq prune_left_one_backup "$(azsdk ls backups prod/ | grep -c 'manifest.json')" 1

CASE=pitr
UR=azblob://$AZ_ACCOUNT/backups/repl
"$BACKUP" replicate --endpoints "$EP" --to "$UR" --segment-interval 1s >"$T/rep.log" 2>&1 &
REP=$!
track_pid "$REP"
for _ in $(seq 300); do grep -q "full backup .* at revision" "$T/rep.log" && break; sleep 0.1; done
for i in $(seq 0 29); do ectl "$EP" put "/pitr/$i" "v$i" >/dev/null; done
MID=$(revision "$EP")
ectl "$EP" del --prefix /pitr/ >/dev/null
LAST=$(revision "$EP")
for _ in $(seq 300); do
	azsdk ls backups repl/ | grep -q "\.seg\.[0-9]*-0*$LAST\.segment\.json" && break; sleep 0.2
done
# the chart's layout: the CronJob's snapshot into the store replicate writes
check cronjob_snapshot_beside_replicate bash -c '"$1" snapshot --endpoints "$2" --to "$3" --no-progress >/dev/null 2>&1' \
	_ "$BACKUP" "$EP" "$UR"
# a second replicate on the same container and prefix waits for the lock
"$BACKUP" replicate --endpoints "$EP" --to "$UR" --segment-interval 1s >"$T/rep2.log" 2>&1 &
REP2=$!
track_pid "$REP2"
for _ in $(seq 100); do grep -q "another etcd-backup replicate writes to" "$T/rep2.log" && break; sleep 0.1; done
check second_replicate_waits_for_lock grep -q "another etcd-backup replicate writes to" "$T/rep2.log"
kill -TERM "$REP2"; wait "$REP2"
kill -TERM "$REP"; wait "$REP"
P=http://127.0.0.1:$(free_port)
if "$RESTORE" --from "$UR" --to-revision "$MID" --name r2 --initial-cluster "r2=$P" --initial-advertise-peer-urls "$P" \
	--data-dir "$T/r2" >"$T/r2.out" 2>&1; then
	start_restored r2 "$T/r2" "r2=$P" etcd-cluster "$P"
	wait_healthy "$R_URL" || die "etcd on the point-in-time dir did not start"
	expect_eq pitr_revision "$(revision "$R_URL")" "$MID"
	expect_eq pitr_keys_equal "$(kv_at "$R_URL" | md5sum)" "$(kv_at "$EP" "$MID" | md5sum)"
	expect_eq pitr_hashkv_equal "$(hashkv "$R_URL" "$MID")" "$(hashkv "$EP" "$MID")"
	stop_pid "$R_PID"
else
	fail pitr_restore_from_azblob "$(tail -3 "$T/r2.out"; tail -3 "$T/rep.log")"
fi
CASE=oauth
azurite_start_tls || die "Azurite (HTTPS, OAuth) did not start: $(tail -3 "$T/azurite-tls/out.log")"
AZTLS=(--azure-endpoint "$AZT_ENDPOINT" --azure-ca-file "$AZT_CA")
NODE_EXTRA_CA_CERTS=$AZT_CA AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=https;AccountName=$AZ_ACCOUNT;AccountKey=$AZ_KEY;BlobEndpoint=$AZT_ENDPOINT;" \
	azsdk mkcontainer oauth || die "cannot create the container over HTTPS"
tlsls() { NODE_EXTRA_CA_CERTS=$AZT_CA AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=https;AccountName=$AZ_ACCOUNT;AccountKey=$AZ_KEY;BlobEndpoint=$AZT_ENDPOINT;" azsdk ls oauth "$@"; }
echo "eyJhbGciOiJSUzI1NiJ9.federated-$RANDOM.sig" >"$T/fed.want" # what the endpoint accepts
cp "$T/fed.want" "$T/fed.jwt"                                      # what the pod holds
TP=$(free_port)
# tokens live 302 s: refreshed 5 min before they expire, so every 2 s
/usr/bin/python3 "$TOP/tests/tools/aztokens.py" "$TP" "$T/tokens.log" 302 "$T/fed.want" 2>"$T/tokens.err" &
track_pid $!
wait_port "$TP" || die "token endpoint did not start"
wi() { env -u AZURE_STORAGE_CONNECTION_STRING AZURE_FEDERATED_TOKEN_FILE="$T/fed.jwt" AZURE_CLIENT_ID=ci-$$ \
	AZURE_TENANT_ID=tenant-1 AZURE_AUTHORITY_HOST="http://127.0.0.1:$TP/" "$@"; }
UO=azblob://$AZ_ACCOUNT/oauth/wi
faultproxy_start "slow 100 4000000" "$AZT_PORT"
out=$(wi "$BACKUP" snapshot --endpoints "$EP" --to "$UO" --azure-endpoint "https://127.0.0.1:$PP/$AZ_ACCOUNT" \
	--azure-ca-file "$AZT_CA" --no-progress 2>&1); rc=$?
expect_eq workload_identity_snapshot_exit_0 "$rc" 0
expect_eq workload_identity_committed "$(tlsls wi/ | wc -l)" 2
expect_match workload_identity_exchanged "$(cat "$T/tokens.log")" "^workload ci-$$ tenant-1$"
check workload_identity_refreshed_in_upload [ "$(grep -c '^workload' "$T/tokens.log")" -ge 2 ]
if wi "$BACKUP" get --from "$UO" "${AZTLS[@]}" --backup latest --output "$T/wi.db" >/dev/null 2>&1; then
	expect_eq workload_identity_get_revision "$("$BACKUP" inspect "$T/wi.db" -w json | jq -r .revision)" "$(revision "$EP")"
else
	fail workload_identity_get "etcd-backup get with workload identity failed"
fi
check no_token_in_output bash -c '! grep -q "eyJ" <<<"$1"' _ "$out"
echo "not-the-federated-token" >"$T/fed.jwt" # another cluster's token, or a stale one
out=$(wi "$BACKUP" snapshot --endpoints "$EP" --to "$UO" "${AZTLS[@]}" --no-progress 2>&1); rc=$?
expect_eq refused_assertion_exit_4 "$rc" 4
expect_match refused_assertion_says_why "$out" "workload identity token exchange .*HTTP 400 invalid_client: AADSTS700213"
check refused_assertion_not_printed bash -c '! grep -q "not-the-federated-token" <<<"$1"' _ "$out"
expect_eq refused_assertion_nothing_committed "$(tlsls wi/ | wc -l)" 2
out=$(env -u AZURE_STORAGE_CONNECTION_STRING AZURE_POD_IDENTITY_AUTHORITY_HOST="http://127.0.0.1:$TP" AZURE_CLIENT_ID=uami-1 \
	"$BACKUP" list --from "$UO" "${AZTLS[@]}" 2>&1); rc=$?
expect_eq managed_identity_list "$rc $(grep -c . <<<"$out")" "0 2"
expect_match managed_identity_asked_imds "$(cat "$T/tokens.log")" "^imds uami-1$"
out=$(env -u AZURE_STORAGE_CONNECTION_STRING AZURE_POD_IDENTITY_AUTHORITY_HOST="http://127.0.0.1:$(free_port)" \
	"$BACKUP" list --from "$UO" "${AZTLS[@]}" 2>&1); rc=$?
expect_eq no_identity_exit_4 "$rc" 4
expect_match no_identity_says_imds "$out" "managed identity \(IMDS\) token at http://127.0.0.1:[0-9]+/metadata"
exit 0
