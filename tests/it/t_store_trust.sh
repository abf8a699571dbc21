#!/usr/bin/env bash
# san: yes
# Retention against someone who can write to the store but holds no key
# (#17, defect 1): what prune and snapshot --keep-* count, rank and delete.
#  - unsigned manifests planted with higher revisions (with objects of the
#    right size) make neither the nightly `snapshot --sign-key --keep-last 2`
#    nor `prune --trusted-keys` delete a signed backup: they are reported
#    and left alone, and `--delete-untrusted` removes them;
#  - without any key configured, a manifest whose object is missing or has
#    another size never counts as a kept backup;
#  - retention never deletes the backup its own run has just written (a
#    backup of the same cluster at a higher revision, as after a restore to
#    an older point, must not push it out);
#  - a store of two clusters: prune without --cluster-id refuses, naming both.
source "$(dirname "$0")/../lib.sh"

CASE=setup
K=$T/keys; mkdir -p "$K"
ssh-keygen -q -t ed25519 -N "" -C backup-signer -f "$K/sign" || die "ssh-keygen failed"
etcd_cluster trust 1
EP=${CL_URLS[0]}
put_keys "$EP" k/ 20 || die "put failed"
snap() { # STORE FLAGS...: the new backup's id
	"$BACKUP" snapshot --endpoints "$EP" --to "$1" --no-progress "${@:2}" 2>>"$T/snap.err" |
		sed -n 's/^backup \([^ ]*\) .*/\1/p'
}
# plant STORE FROM_ID REV_PLUS [no-object|short-object]: a manifest copied from
# FROM_ID's, its id new and its revision REV_PLUS higher, unsigned; its
# object is junk of the manifest's stored size unless told otherwise
plant() {
	local st=$1 from=$2 plus=$3 how=${4:-} m id
	m=$st/$from.manifest.json
	id=$(jq -r .id "$m" | sed "s/-[^-]*\$/-planted$RANDOM/")
	jq --arg id "$id" --argjson plus "$plus" '.id = $id | .revision += $plus | .object = ($id + ".snapshot.db.zst")' \
		"$m" >"$st/$id.manifest.json"
	case $how in
	no-object) ;;
	short-object) head -c 100 /dev/urandom >"$st/$id.snapshot.db.zst" ;;
	*) head -c "$(jq -r .stored_size "$m")" /dev/urandom >"$st/$id.snapshot.db.zst" ;;
	esac
	echo "$id"
}
ids() { ls "$1" | sed -n 's/\.manifest\.json$//p' | sort | tr '\n' ' '; }
sorted() { printf '%s\n' "$@" | sort | tr '\n' ' '; }

CASE=signed_keep
# the nightly job: signed, --keep-last 2; an intruder plants two unsigned
# manifests above the newest revision
S=$T/signed
A=$(snap "$S" --sign-key "$K/sign"); ectl "$EP" put k/a 1 >/dev/null
B=$(snap "$S" --sign-key "$K/sign"); ectl "$EP" put k/b 2 >/dev/null
[ -n "$A" ] && [ -n "$B" ] || die "signed snapshots failed: $(tail -3 "$T/snap.err")"
P1=$(plant "$S" "$B" 1000); P2=$(plant "$S" "$B" 2000)
"$BACKUP" snapshot --endpoints "$EP" --to "$S" --no-progress --sign-key "$K/sign" --keep-last 2 \
	>"$T/c.out" 2>"$T/c.err"; rc=$?
C=$(sed -n 's/^backup \([^ ]*\) .*/\1/p' "$T/c.out")
expect_eq signed_keep_exit_0 "$rc" 0
expect_eq signed_keep_two_newest_signed_kept "$(ids "$S")" "$(sorted "$B" "$C" "$P1" "$P2")"
expect_match signed_keep_planted_reported "$(cat "$T/c.err")" "$P1 is not counted as a backup \(not proven by --trusted-keys\).*not signed"
check signed_keep_own_backup_verifies "$BACKUP" verify --from "$S" --backup "$C" --trusted-keys "$K/sign.pub"

CASE=prune_trusted
# prune with --trusted-keys: the planted never count, never go; reported in JSON
out=$("$BACKUP" prune --from "$S" --keep-last 1 --trusted-keys "$K/sign.pub" -o json 2>"$T/p.err"); rc=$?
expect_eq prune_trusted_exit_0 "$rc" 0
expect_eq prune_trusted_deleted "$(jq -c .deleted <<<"$out")" "[\"$B\"]"
expect_eq prune_trusted_kept "$(jq -c .kept <<<"$out")" "[\"$C\"]"
expect_eq prune_trusted_not_proven "$(jq -r '.not_proven | sort | join(" ")' <<<"$out")" "$(printf '%s\n' "$P1" "$P2" | sort | tr '\n' ' ' | sed 's/ $//')"
expect_eq prune_trusted_store "$(ids "$S")" "$(sorted "$C" "$P1" "$P2")"
ETCD_BACKUP_TRUSTED_KEYS=$K/sign.pub "$BACKUP" prune --from "$S" --keep-last 1 --delete-untrusted >/dev/null 2>"$T/d.err"; rc=$?
expect_eq prune_delete_untrusted_exit_0 "$rc" 0
expect_eq prune_delete_untrusted_store "$(ids "$S")" "$(sorted "$C")"
check prune_delete_untrusted_objects_gone bash -c '! ls "$1" | grep -q planted' _ "$S"

CASE=unsigned_proof
# no key configured: a manifest whose object is missing, or of another
# size, is never a kept backup (it would push a real one out)
S=$T/plain
A=$(snap "$S"); ectl "$EP" put k/c 3 >/dev/null
B=$(snap "$S"); ectl "$EP" put k/d 4 >/dev/null
N1=$(plant "$S" "$B" 1000 no-object); N2=$(plant "$S" "$B" 2000 short-object)
out=$("$BACKUP" prune --from "$S" --keep-last 2 2>&1); rc=$?
expect_eq unsigned_proof_exit_0 "$rc" 0
expect_eq unsigned_proof_real_ones_kept "$(ids "$S")" "$(sorted "$A" "$B" "$N1" "$N2")"
expect_match unsigned_proof_missing_said "$out" "$N1 is not counted as a backup .*object $N1.snapshot.db.zst is missing"
expect_match unsigned_proof_size_said "$out" "$N2 is not counted as a backup .*has 100 bytes, its manifest says"

CASE=own_backup
# a backup of this cluster at a far higher revision (as a store holds after
# the cluster was restored to an older point): keep-last 1 must not delete
# the backup the run has just written
S=$T/own
A=$(snap "$S")
jq '.revision += 1000000' "$S/$A.manifest.json" >"$T/m" && cp "$T/m" "$S/$A.manifest.json"
ectl "$EP" put k/e 5 >/dev/null
"$BACKUP" snapshot --endpoints "$EP" --to "$S" --no-progress --keep-last 1 >"$T/o.out" 2>"$T/o.err"; rc=$?
O=$(sed -n 's/^backup \([^ ]*\) .*/\1/p' "$T/o.out")
expect_eq own_backup_exit_0 "$rc" 0
check own_backup_kept test -f "$S/$O.manifest.json" -a -f "$S/$O.snapshot.db.zst"
expect_match own_backup_said "$(cat "$T/o.err")" "keeping $O: this run just wrote it"

CASE=two_clusters
# a store that holds two clusters: prune does not guess which one
etcd_cluster other 1
EP2=${CL_URLS[0]}
S=$T/two
A=$(snap "$S"); X=$("$BACKUP" snapshot --endpoints "$EP2" --to "$S" --no-progress 2>/dev/null | sed -n 's/^backup \([^ ]*\) .*/\1/p')
[ -n "$A" ] && [ -n "$X" ] || die "snapshots of two clusters failed"
TA=$A TX=$X
out=$("$BACKUP" prune --from "$S" --keep-last 1 2>&1); rc=$?
expect_eq two_clusters_refused_exit_2 "$rc" 2
expect_match two_clusters_names_both "$out" "holds backups of 2 clusters \(($(jq -r .cluster_id "$S/$A.manifest.json")|$(jq -r .cluster_id "$S/$X.manifest.json")), .*pass --cluster-id"
expect_eq two_clusters_nothing_deleted "$(ids "$S")" "$(sorted "$A" "$X")"
out=$("$BACKUP" prune --from "$S" --keep-last 1 --cluster-id "$(jq -r .cluster_id "$S/$A.manifest.json")" 2>&1); rc=$?
expect_eq two_clusters_with_id_exit_0 "$rc" 0

CASE=latest_unreadable
# #17.2: an unreadable newest manifest makes every form of "latest" refuse
# (it may be the newest backup), with --trusted-keys too; nothing written
S=$T/unread
A=$(snap "$S" --sign-key "$K/sign"); ectl "$EP" put k/f 6 >/dev/null
B=$(snap "$S" --sign-key "$K/sign")
head -c 100 "$S/$B.manifest.json" >"$T/m" && cp "$T/m" "$S/$B.manifest.json"
for form in "--backup latest" "--to-latest" "" "--trusted-keys $K/sign.pub" "--to-latest --trusted-keys $K/sign.pub"; do
	name=latest_unreadable_$(echo "${form:-store_alone}" | sed 's/--trusted-keys .*/trusted/; s/[^a-z_]/_/g; s/__*/_/g; s/^_//')
	# shellcheck disable=SC2086
	out=$("$RESTORE" --from "$S" $form --data-dir "$T/u.etcd" 2>&1); rc=$?
	expect_eq "${name}_exit_5" "$rc $([ -e "$T/u.etcd" ] && echo written)" "5 "
	expect_match "${name}_names_it" "$out" "$B.manifest.json is unreadable"
done
"$BACKUP" get --from "$S" --backup latest --output "$T/l.db" >/dev/null 2>&1; rc=$?
expect_eq latest_unreadable_get_exit_5 "$rc $([ -e "$T/l.db" ] && echo written)" "5 "
# a revision named explicitly is still restorable (the choice no longer depends on which is newest)
out=$("$RESTORE" --from "$S" --backup "$A" --data-dir "$T/a.etcd" 2>&1); rc=$?
expect_eq latest_unreadable_by_id_still_works "$rc" 0

CASE=two_clusters_latest
# #17.2: a store that holds two clusters: every form of latest and every
# point in time asks for --cluster-id; revisions of two clusters are never
# compared; a restore names the cluster it restores
S=$T/two
CA=$(jq -r .cluster_id "$S/$TA.manifest.json"); CX=$(jq -r .cluster_id "$S/$TX.manifest.json")
for form in "--backup latest" "--to-latest" "" "--to-revision 3" "--to-time 2026-01-01T00:00:00Z"; do
	name=two_latest_$(echo "${form:-store_alone}" | sed 's/[^a-z]/_/g; s/__*/_/g; s/^_//; s/_$//')
	# shellcheck disable=SC2086
	out=$("$RESTORE" --from "$S" $form --data-dir "$T/t.etcd" 2>&1); rc=$?
	expect_eq "${name}_exit_2" "$rc $([ -e "$T/t.etcd" ] && echo written)" "2 "
	expect_match "${name}_asks_cluster_id" "$out" "holds backups of 2 clusters .*pass --cluster-id"
done
"$BACKUP" get --from "$S" --backup latest --output "$T/two.db" >/dev/null 2>&1; rc=$?
expect_eq two_latest_get_exit_2 "$rc $([ -e "$T/two.db" ] && echo written)" "2 "
"$BACKUP" verify --from "$S" >/dev/null 2>&1; rc=$?
expect_eq two_latest_verify_exit_2 "$rc" 2
out=$("$RESTORE" --from "$S" --cluster-id "$CA" --data-dir "$T/ca.etcd" 2>&1); rc=$?
expect_eq two_latest_with_cluster_id_exit_0 "$rc" 0
expect_match two_latest_restore_names_cluster "$out" "backup $TA of cluster $CA from"
out=$("$RESTORE" --from "$S" --cluster-id "$CA" --backup "$TX" --data-dir "$T/cx.etcd" 2>&1); rc=$?
expect_eq two_latest_other_cluster_by_id_refused "$rc $([ -e "$T/cx.etcd" ] && echo written)" "2 "
expect_match two_latest_other_cluster_names_both "$out" "backup $TX is of cluster $CX, not $CA"
"$BACKUP" get --from "$S" --cluster-id "$CX" --backup latest --output "$T/x.db" >/dev/null 2>&1
expect_eq two_latest_get_cluster_x "$(sha256sum <"$T/x.db" | cut -d' ' -f1)" "$(jq -r .snapshot_sha256 "$S/$TX.manifest.json")"
exit $((_NFAIL > 0))
