#!/usr/bin/env bash
# versions: all
# age encryption and signed manifests, with the real tools as oracles:
# `age -d` + `zstd -d` give back etcd's snapshot from our object (with
# either of two recipients), we decrypt what `age -r` wrote, `ssh-keygen -Y
# verify` accepts our manifest signatures, a secret put in etcd appears in
# no byte of the store, a restored member serves the source's keyspace,
# and a damaged or forged backup is refused with nothing written.
# san: yes
# tsan: yes
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/restore_common.sh"

CASE=setup
K=$T/keys; mkdir -p "$K"
age-keygen -o "$K/k1.txt" 2>/dev/null && age-keygen -o "$K/k2.txt" 2>/dev/null &&
	age-keygen -o "$K/other.txt" 2>/dev/null || die "age-keygen failed"
R1=$(age-keygen -y "$K/k1.txt"); R2=$(age-keygen -y "$K/k2.txt")
printf '# the break-glass key, kept offline\n\n%s\n' "$R2" >"$K/recipients.txt"
ssh-keygen -q -t ed25519 -N "" -C backup-signer -f "$K/sign" || die "ssh-keygen failed"
ssh-keygen -q -t ed25519 -N "" -C attacker -f "$K/evil" || die "ssh-keygen failed"
echo "etcd-backup $(cat "$K/sign.pub")" >"$K/allowed_signers"
cp "$K/sign.pub" "$K/trusted.pub"

etcd_cluster src 1
SRC=${CL_URLS[0]}
populate "$SRC" 600 || die "populate failed"
SECRET=SECRET-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
ectl "$SRC" put /registry/secrets/kube-system/bootstrap-token "$SECRET" >/dev/null || die "put secret"
REV=$(revision "$SRC")
ST=$T/store
ENC=(--age-recipient "$R1" --age-recipients-file "$K/recipients.txt")
"$BACKUP" snapshot --endpoints "$SRC" --to "$ST" --no-progress "${ENC[@]}" --sign-key "$K/sign" \
	>"$T/snap.out" 2>"$T/snap.err" || die "encrypted snapshot failed: $(tail -3 "$T/snap.err")"
ID=$(sed -n 's/^backup \([^ ]*\) .*/\1/p' "$T/snap.out")
MAN=$ST/$ID.manifest.json OBJ=$ST/$ID.snapshot.db.zst.age
ectl "$SRC" put /after/backup later >/dev/null

CASE=format
check object_named_zst_age test -f "$OBJ"
expect_eq manifest_encryption "$(jq -r .encryption "$MAN")" age
expect_eq manifest_recipients "$(jq -r '.age_recipients | join(" ")' "$MAN")" "$R1 $R2"
expect_eq object_starts_with_age_header "$(head -c 21 "$OBJ")" "age-encryption.org/v1"
expect_eq stored_sha256 "$(sha256sum <"$OBJ" | cut -d' ' -f1)" "$(jq -r .stored_sha256 "$MAN")"
for k in k1 k2; do
	age -d -i "$K/$k.txt" "$OBJ" | zstd -dq >"$T/plain-$k.db" || fail "age_cli_decrypts_with_$k" "age -d | zstd -d failed"
	expect_eq "age_cli_decrypts_with_$k" "$(sha256sum <"$T/plain-$k.db" | cut -d' ' -f1)" \
		"$(jq -r .snapshot_sha256 "$MAN")"
done
expect_eq etcd_tool_reads_decrypted "$(snap_rev "$T/plain-k1.db")" "$REV"
check_fails age_cli_refuses_other_key age -d -i "$K/other.txt" -o "$T/x.db" "$OBJ"
check no_secret_in_store bash -c "! grep -rqa -- '$SECRET' '$ST'"
check secret_is_in_plain grep -qa -- "$SECRET" "$T/plain-k1.db"

CASE=signature
check sig_written test -f "$MAN.sig"
out=$(ssh-keygen -Y verify -f "$K/allowed_signers" -I etcd-backup -n etcd-backup -s "$MAN.sig" <"$MAN" 2>&1)
expect_match ssh_keygen_verifies "$out" '^Good "etcd-backup" signature for etcd-backup with ED25519 key SHA256:'
expect_eq fingerprint_as_ssh_keygen "$(ssh-keygen -lf "$K/sign.pub" | cut -d' ' -f2)" \
	"$(sed -n 's/.*key \(SHA256:[^ ]*\).*/\1/p' <<<"$out")"
check_fails ssh_keygen_refuses_altered bash -c "sed 's/\"tags\"/\"tagz\"/' '$MAN' | ssh-keygen -Y verify -f '$K/allowed_signers' -I etcd-backup -n etcd-backup -s '$MAN.sig'"
# #17.5: allowed_signers lines whose principal (or option) begins like a key
# type are read as ssh-keygen reads them: the same file works for both
{
	echo "ssh-admin@example.com,ecdsa-team $(cat "$K/evil.pub")"
	echo "sk-ops@example.com namespaces=\"etcd-backup\" $(cut -d' ' -f1,2 "$K/sign.pub")"
} >"$K/allowed_odd"
out=$(ssh-keygen -Y verify -f "$K/allowed_odd" -I sk-ops@example.com -n etcd-backup -s "$MAN.sig" <"$MAN" 2>&1)
expect_match allowed_odd_principals_ssh_keygen "$out" '^Good "etcd-backup" signature for sk-ops@example.com'
out=$("$BACKUP" verify --from "$ST" --backup "$ID" --trusted-keys "$K/allowed_odd" 2>&1); rc=$?
expect_eq allowed_odd_principals_read "$rc" 0

CASE=read
out=$("$BACKUP" get --from "$ST" --backup "$ID" --output "$T/g0.db" 2>&1); rc=$?
expect_eq get_without_identity_exit "$rc" 2
expect_match get_without_identity_says "$out" 'age-encrypted .*--age-identity'
out=$("$BACKUP" get --from "$ST" --backup "$ID" --output "$T/g1.db" --age-identity "$K/other.txt" 2>&1); rc=$?
expect_eq get_wrong_identity_exit "$rc" 5
expect_match get_wrong_identity_says "$out" 'no age identity given matches'
check get_wrong_identity_no_file test ! -e "$T/g1.db"
check get_with_k2 "$BACKUP" get --from "$ST" --backup "$ID" --output "$T/g2.db" --age-identity "$K/k2.txt" \
	--trusted-keys "$K/trusted.pub"
check get_equals_age_cli cmp "$T/g2.db" "$T/plain-k1.db"
out=$("$BACKUP" verify --from "$ST" --backup "$ID" 2>&1); rc=$?
expect_eq verify_without_identity_exit "$rc" 0
expect_match verify_without_identity_says "$out" 'content was not checked'
expect_eq verify_json_content_checked "$("$BACKUP" verify --from "$ST" --backup "$ID" -o json | jq -r '.[0].content_checked')" false
out=$("$BACKUP" verify --from "$ST" --backup "$ID" --age-identity "$K/k1.txt" -o json); rc=$?
expect_eq verify_with_identity "$rc $(jq -r '.[0].ok, .[0].content_checked' <<<"$out" | tr '\n' ' ')" "0 true true "
check verify_deep_with_identity "$BACKUP" verify --from "$ST" --backup "$ID" --deep --age-identity "$K/k1.txt" \
	--trusted-keys "$K/allowed_signers"
out=$("$BACKUP" inspect "$OBJ" --age-identity "$K/k1.txt" -w json); rc=$?
expect_eq inspect_encrypted_file "$rc $(jq -r .revision <<<"$out")" "0 $REV"
out=$("$BACKUP" inspect "$OBJ" --age-identity "$K/k1.txt" --trusted-keys "$K/trusted.pub" 2>&1); rc=$?
expect_eq inspect_file_with_trusted_keys_refused "$rc $(grep -c 'signed manifest' <<<"$out")" "2 1"
out=$("$BACKUP" inspect --from "$ST" --backup "$ID" --age-identity "$K/k1.txt" --trusted-keys "$K/trusted.pub" -w json); rc=$?
expect_eq inspect_backup_signed "$rc $(jq -r .revision <<<"$out")" "0 $REV"

CASE=restore
P=http://127.0.0.1:$(free_port)
flags=(--name s1 --initial-cluster "s1=$P" --initial-advertise-peer-urls "$P")
out=$("$RESTORE" --from "$ST" --backup latest --age-identity "$K/k2.txt" --trusted-keys "$K/trusted.pub" \
	"${flags[@]}" --data-dir "$T/r1" 2>&1) || fail restore_store_encrypted_signed "$out"
start_restored s1 "$T/r1" "s1=$P" etcd-cluster "$P"
wait_healthy "$R_URL" || { tail -20 "$T/r1.log"; die "etcd on the decrypted restore did not start"; }
expect_eq restored_kv_equal "$(kv_at "$R_URL" | md5sum)" "$(kv_at "$SRC" "$REV" | md5sum)"
expect_eq restored_hashkv_equal "$(hashkv "$R_URL" "$REV")" "$(hashkv "$SRC" "$REV")"
stop_pid "$R_PID"
# a local copy of the stored object, and a snapshot that the age CLI encrypted
# (r1 was booted, which changes its db: compare with a restore of the plain file)
"$RESTORE" --from "$T/plain-k1.db" "${flags[@]}" --data-dir "$T/r0" >/dev/null || fail restore_plain "restore of the decrypted file failed"
out=$(ETCD_BACKUP_AGE_IDENTITY=$K/k2.txt ETCD_BACKUP_TRUSTED_KEYS=$K/allowed_signers "$RESTORE" --from "$ST" \
	--backup "$ID" "${flags[@]}" --data-dir "$T/r5" 2>&1)
expect_eq restore_keys_from_env "$? $(sha256sum <"$T/r5/member/snap/db" 2>/dev/null | cut -c1-64)" "0 $(sha256sum <"$T/r0/member/snap/db" | cut -c1-64)"
out=$(ETCD_BACKUP_TRUSTED_KEYS=$K/evil.pub "$BACKUP" get --from "$ST" --backup "$ID" --age-identity "$K/k1.txt" --output "$T/e.db" 2>&1)
expect_eq trusted_keys_env_applies "$? $(grep -c 'not one of the trusted keys' <<<"$out")" "4 1"
check restore_local_object "$RESTORE" --from "$OBJ" --age-identity "$K/k1.txt" "${flags[@]}" --data-dir "$T/r2"
expect_eq restore_local_object_same_db "$(sha256sum <"$T/r2/member/snap/db")" "$(sha256sum <"$T/r0/member/snap/db")"
# a plain zstd object copied out of a store is decompressed by itself too
"$BACKUP" snapshot --endpoints "$SRC" --to "$T/plainstore" --no-progress >/dev/null 2>&1 || fail plain_snapshot "failed"
"$BACKUP" get --from "$T/plainstore" --backup latest --output "$T/pz.db" >/dev/null 2>&1 || fail plain_get "failed"
"$RESTORE" --from "$T/pz.db" "${flags[@]}" --data-dir "$T/z0" >/dev/null || fail restore_plain_zst_ref "failed"
check restore_local_zst_object "$RESTORE" --from "$(ls "$T"/plainstore/*.snapshot.db.zst)" "${flags[@]}" --data-dir "$T/z1"
expect_eq restore_local_zst_same_db "$(sha256sum <"$T/z1/member/snap/db" 2>/dev/null)" "$(sha256sum <"$T/z0/member/snap/db")"
age -r "$R1" -o "$T/cli.db.age" "$T/plain-k1.db" || fail age_cli_encrypts "age -r failed"
check restore_age_cli_file "$RESTORE" --from "$T/cli.db.age" --age-identity "$K/k1.txt" "${flags[@]}" --data-dir "$T/r3"
expect_eq restore_age_cli_same_db "$(sha256sum <"$T/r3/member/snap/db")" "$(sha256sum <"$T/r0/member/snap/db")"
# #17.5: the armour of `age -a` is refused by name (not as a snapshot
# without a trailer with advice to skip the hash check); nothing written
age -a -r "$R1" -o "$T/cli.db.age.asc" "$T/plain-k1.db" || fail age_cli_armours "age -a failed"
out=$("$RESTORE" --from "$T/cli.db.age.asc" --age-identity "$K/k1.txt" "${flags[@]}" --data-dir "$T/ra" 2>&1); rc=$?
expect_eq armoured_age_refused "$rc $([ -e "$T/ra" ] && echo written)" "2 "
expect_match armoured_age_named "$out" "ASCII-armoured age file \(age -a\)"
check_fails armoured_age_no_skip_advice grep -q -- "--skip-hash-check" <<<"$out"
# a snapshot that `age -p` encrypted (scrypt): age reads the passphrase from
# a terminal only, so it gets one from script(1)
echo 'correct horse battery' >"$K/pass.txt"
(sleep 1; echo 'correct horse battery'; sleep 1; echo 'correct horse battery'; sleep 1) |
	script -qc "age -p -o '$T/pass.db.age' '$T/plain-k1.db'" /dev/null >/dev/null 2>&1
expect_match age_p_wrote_scrypt "$(sed -n 2p "$T/pass.db.age" | cut -c1-10)" '^-> scrypt'
check restore_age_passphrase_file "$RESTORE" --from "$T/pass.db.age" --age-passphrase-file "$K/pass.txt" "${flags[@]}" --data-dir "$T/r6"
expect_eq restore_age_passphrase_same_db "$(sha256sum <"$T/r6/member/snap/db" 2>/dev/null)" "$(sha256sum <"$T/r0/member/snap/db")"
echo wrong >"$K/wrong-pass.txt"
out=$("$RESTORE" --from "$T/pass.db.age" --age-passphrase-file "$K/wrong-pass.txt" "${flags[@]}" --data-dir "$T/r7" 2>&1); rc=$?
expect_eq restore_wrong_passphrase "$rc $(test -e "$T/r7" && echo dir || echo nodir)" "5 nodir"
out=$("$RESTORE" --from "$T/cli.db.age" "${flags[@]}" --data-dir "$T/r4" 2>&1); rc=$?
expect_eq restore_file_without_identity "$rc" 2
expect_match restore_file_without_identity_says "$out" 'age-encrypted: pass --age-identity'
check restore_file_without_identity_nothing test ! -e "$T/r4"

CASE=damage
# one altered byte inside a chunk, and a cut at a chunk boundary; the
# manifest's digests are fixed up, so only age's own checks can catch them
fixup() { # STORE ID: stored_sha256/size of the (changed) object
	local m=$1/$2.manifest.json o=$1/$2.snapshot.db.zst.age
	jq --arg s "$(sha256sum <"$o" | cut -d' ' -f1)" --argjson n "$(stat -c %s "$o")" \
		'.stored_sha256=$s | .stored_size=$n' "$m" >"$m.new" && mv "$m.new" "$m" && rm -f "$m.sig"
}
for kind in flip cut; do
	D=$T/dmg-$kind; mkdir -p "$D"; cp "$MAN" "$OBJ" "$D/"
	if [ $kind = flip ]; then
		python3 -c 'import sys; f=open(sys.argv[1],"r+b"); f.seek(100000); b=f.read(1); f.seek(100000); f.write(bytes([b[0]^1]))' "$D/$ID.snapshot.db.zst.age"
	else
		# right after the first full chunk: header, 16-byte nonce, 64 KiB + tag
		python3 -c 'import os,sys; d=open(sys.argv[1],"rb").read(); h=d.index(b"\n",d.index(b"\n--- ")+1)+1; os.truncate(sys.argv[1], h+16+65536+16)' "$D/$ID.snapshot.db.zst.age"
	fi
	fixup "$D" "$ID"
	out=$("$RESTORE" --from "$D" --backup "$ID" --age-identity "$K/k1.txt" "${flags[@]}" --data-dir "$T/d-$kind" 2>&1); rc=$?
	expect_eq "${kind}_exit_5" "$rc" 5
	expect_match "${kind}_says" "$out" 'age (payload|file)'
	check "${kind}_no_data_dir" bash -c "! ls -a '$T' | grep -q -e '^d-$kind\$'"
	out=$("$BACKUP" get --from "$D" --backup "$ID" --age-identity "$K/k1.txt" --output "$T/g-$kind.db" 2>&1); rc=$?
	expect_eq "${kind}_get_exit_5" "$rc" 5
	check "${kind}_get_no_file" test ! -e "$T/g-$kind.db"
done

CASE=forged
# an attacker who can write to the bucket plants a backup of another
# cluster, encrypted to our own public recipient, every digest right: it
# is the latest.  Unsigned, or signed by the attacker's key: refused.
etcd_cluster evil 1
EVIL=${CL_URLS[0]}
ectl "$EVIL" put /registry/clusterrolebindings/evil admin >/dev/null
"$BACKUP" snapshot --endpoints "$EVIL" --to "$ST" --no-progress --age-recipient "$R1" >"$T/f1.out" 2>&1 || die "forged snapshot failed: $(cat "$T/f1.out")"
FID=$(sed -n 's/^backup \([^ ]*\) .*/\1/p' "$T/f1.out")
check forged_verifies_without_keys "$BACKUP" verify --from "$ST" --backup "$FID" --age-identity "$K/k1.txt"
# it is of another cluster: latest refuses to guess between the two (#17.2)
out=$("$RESTORE" --from "$ST" --backup latest --age-identity "$K/k1.txt" --trusted-keys "$K/trusted.pub" \
	"${flags[@]}" --data-dir "$T/f1" 2>&1); rc=$?
expect_eq forged_other_cluster_latest_exit_2 "$rc" 2
expect_match forged_other_cluster_latest_says "$out" "holds backups of 2 clusters .*--cluster-id"
# and asked for by its cluster, it is unsigned
out=$("$RESTORE" --from "$ST" --backup latest --cluster-id "$(jq -r .cluster_id "$ST/$FID.manifest.json")" \
	--age-identity "$K/k1.txt" --trusted-keys "$K/trusted.pub" "${flags[@]}" --data-dir "$T/f1" 2>&1); rc=$?
expect_eq forged_unsigned_exit_4 "$rc" 4
expect_match forged_unsigned_says "$out" "$FID.*is not signed"
check forged_unsigned_no_data_dir test ! -e "$T/f1"
mv "$ST/$FID.manifest.json" "$T/forged-manifest"; rm -f "$ST/$FID".*
"$BACKUP" snapshot --endpoints "$EVIL" --to "$ST" --no-progress --age-recipient "$R1" --sign-key "$K/evil" >"$T/f2.out" 2>&1 || die "forged snapshot 2 failed"
FID2=$(sed -n 's/^backup \([^ ]*\) .*/\1/p' "$T/f2.out")
out=$("$RESTORE" --from "$ST" --backup "$FID2" --age-identity "$K/k1.txt" --trusted-keys "$K/allowed_signers" \
	"${flags[@]}" --data-dir "$T/f2" 2>&1); rc=$?
expect_eq forged_untrusted_exit_4 "$rc" 4
expect_match forged_untrusted_says "$out" "signed by SHA256:.*not one of the trusted keys"
check forged_untrusted_no_data_dir test ! -e "$T/f2"
# our own signed manifest, altered after signing (a tag added)
sed -i 's/"tags": \[/"tags": ["planted"/' "$MAN"
out=$("$BACKUP" get --from "$ST" --backup "$ID" --age-identity "$K/k1.txt" --trusted-keys "$K/trusted.pub" --output "$T/alt.db" 2>&1); rc=$?
expect_eq altered_manifest_exit_5 "$rc" 5
expect_match altered_manifest_says "$out" 'does not verify'
check altered_manifest_no_file test ! -e "$T/alt.db"
out=$("$BACKUP" list --from "$ST" --trusted-keys "$K/trusted.pub" 2>/dev/null); rc=$?
expect_eq list_trusted_exit "$rc" 5
expect_match list_marks_untrusted "$out" "$FID2 .*NOT TRUSTED: .*not one of the trusted keys"
expect_match list_marks_age "$out" "$FID2 .*\[age\]"
expect_eq list_json_status "$("$BACKUP" list --from "$ST" --trusted-keys "$K/trusted.pub" -o json 2>/dev/null | jq -r '[.[].signature.status] | sort | join(",")')" "invalid,untrusted"

CASE=bad_keys
# keys that cannot work are refused before anything is attempted (exit 2)
ssh-keygen -q -t ed25519 -N "a passphrase" -f "$K/locked"; ssh-keygen -q -t rsa -b 2048 -N "" -f "$K/rsa"
n0=$(ls "$ST" | wc -l)
for kind in locked:passphrase rsa:ed25519; do
	out=$("$BACKUP" snapshot --endpoints "$SRC" --to "$ST" --no-progress --sign-key "$K/${kind%%:*}" 2>&1); rc=$?
	expect_eq "sign_key_${kind%%:*}_exit_2" "$rc" 2
	expect_match "sign_key_${kind%%:*}_says" "$out" "${kind#*:}"
done
out=$("$BACKUP" snapshot --endpoints "$SRC" --to "$ST" --no-progress --age-recipient age1notakey 2>&1); rc=$?
expect_eq bad_recipient_exit_2 "$rc $(grep -c 'not an age recipient' <<<"$out")" "2 1"
# #17.3: a secret given where a recipient belongs is never echoed, whatever
# its case, blanks or byte-order mark, and a passphrase file neither;
# the message names the flag, or the file and line
SK=$(grep '^AGE-SECRET-KEY-' "$K/k1.txt")
printf '\xef\xbb\xbf%s\n' "$SK" >"$K/bom.txt"
printf 'correct-horse-%s\n' "$RANDOM$RANDOM" >"$K/pass.txt"; chmod 600 "$K/pass.txt"
i=0
for a in "--age-recipient= $SK" "--age-recipient=${SK,,}" "--age-recipient=$SK " "--age-recipients-file=$K/bom.txt" \
	"--age-recipients-file=$K/pass.txt" "--age-recipients-file=$K/k1.txt"; do
	i=$((i + 1))
	out=$("$BACKUP" snapshot --endpoints "$SRC" --to "$ST" --no-progress "$a" 2>&1); rc=$?
	expect_eq "secret_as_recipient_${i}_exit_2" "$rc" 2
	check "secret_as_recipient_${i}_not_echoed" bash -c '! grep -qiF -e "${1:16:40}" -e "$(cut -c1-14 "$2")" <<<"$3"' _ "$SK" "$K/pass.txt" "$out"
	expect_match "secret_as_recipient_${i}_names_where" "$out" "--age-recipient(s-file: .* line [0-9]+)?: "
done
# a private key file others can read: a warning, as ssh gives
cp "$K/k1.txt" "$K/open.txt"; chmod 644 "$K/open.txt"
out=$("$BACKUP" get --from "$ST" --backup "$ID" --output "$T/open.db" --age-identity "$K/open.txt" 2>&1)
expect_match identity_readable_by_others_warned "$out" "--age-identity $K/open.txt is readable by others \(mode 0644\).*chmod 600"
out=$("$RESTORE" --from "$ST" --backup "$ID" --age-identity "$K/open.txt" --data-dir "$T/open.etcd" "${flags[@]}" 2>&1)
expect_match identity_readable_restore_warned "$out" "warning: --age-identity $K/open.txt is readable by others"
out=$("$BACKUP" get --from "$ST" --backup "$ID" --output "$T/closed.db" --age-identity "$K/k1.txt" 2>&1)
check_fails identity_0600_not_warned grep -q "readable by" <<<"$out"
out=$("$BACKUP" list --from "$ST" --trusted-keys "$K/rsa.pub" 2>&1); rc=$?
expect_eq rsa_trusted_key_exit_2 "$rc $(grep -c 'only ssh-ed25519' <<<"$out")" "2 1"
out=$("$BACKUP" get --from "$ST" --backup "$ID" --output "$T/k.db" --age-identity "$K/sign" 2>&1); rc=$?
expect_eq ssh_key_as_identity_exit_2 "$rc $(grep -c 'not an age identity' <<<"$out")" "2 1"
# a private key where a public one belongs: refused, and never echoed
out=$("$BACKUP" snapshot --endpoints "$SRC" --to "$ST" --no-progress --age-recipients-file "$K/k1.txt" 2>&1); rc=$?
expect_eq identity_as_recipient_exit_2 "$rc $(grep -c 'age identity or a private key' <<<"$out")" "2 1"
check identity_as_recipient_not_echoed bash -c "! grep -q AGE-SECRET-KEY-1 <<<'$out'"
out=$("$BACKUP" list --from "$ST" --trusted-keys "$K/sign" 2>&1); rc=$?
expect_eq private_key_as_trusted_exit_2 "$rc $(grep -c 'this is a private key' <<<"$out")" "2 1"
check private_key_as_trusted_not_echoed bash -c "! grep -qF -- '$(sed -n 2p "$K/sign")' <<<'$out'"
check bad_keys_wrote_nothing test "$(ls "$ST" | wc -l)" -eq "$n0" -a ! -e "$T/k.db"

CASE=prune
"$BACKUP" snapshot --endpoints "$SRC" --to "$ST" --no-progress "${ENC[@]}" --sign-key "$K/sign" >"$T/s2.out" 2>&1 || fail second_snapshot "$(cat "$T/s2.out")"
ID2=$(sed -n 's/^backup \([^ ]*\) .*/\1/p' "$T/s2.out")
"$BACKUP" prune --from "$ST" --keep-last 1 --cluster-id "$(jq -r .cluster_id "$ST/$ID2.manifest.json")" >"$T/prune.out" 2>&1 ||
	fail prune_runs "$(cat "$T/prune.out")"
expect_eq prune_removes_object_sig_manifest "$(ls "$ST" | grep -c "^$ID")" 0
expect_eq prune_keeps_newest_whole "$(ls "$ST" | grep -c "^$ID2")" 3
exit 0
