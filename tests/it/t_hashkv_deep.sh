#!/usr/bin/env bash
# versions: all
# Backups that prove they equal the cluster.  A 3-member cluster: snapshot
# records the HashKV every member answers at the snapshot's revision (equal
# to etcdctl endpoint hashkv), and --verify-deep / verify --deep recompute
# it offline from the stored object.  A value changed inside the stored
# snapshot with every digest fixed up passes plain verify and fails --deep
# (exit 5).  A member whose own data was changed behind etcd's back answers
# another HashKV: the backup is still made and verifies, the run exits 7 and
# names that member.  3.6+ record their storage version.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/restore_common.sh"

CASE=setup
etcd_cluster h 3
EP=${CL_URLS[0]}
populate "$EP" 300 || die "populate failed"
ectl "$EP" put victim "VICTIM-VALUE-0123456789" >/dev/null
S=$T/store

CASE=record
# 3.6+: a new cluster's members raise their storage version on their own,
# seconds after the cluster version settles (none, or 3.5.0, before: see
# t_cluster3); a snapshot taken before then records that: wait, up to 30 s
if version_ge "$EB_ETCD_VERSION" 3.6; then
	for _ in $(seq 150); do
		[ "$(ectl "${CL_URLS[1]}" endpoint status -w json 2>/dev/null | jq -r '.[0].Status.storageVersion // empty')" = "$EB_ETCD_VERSION.0" ] && break
		sleep 0.2
	done
fi
out=$("$BACKUP" snapshot --endpoints "$CL_ENDPOINTS" --member "${CL_URLS[1]}" --to "$S" --verify-deep --no-progress 2>"$T/e")
expect_eq record__snapshot_exits_0 "$?" 0
ID=$(sed -n 's/^backup \([^ ]*\) .*/\1/p' <<<"$out")
M=$S/$ID.manifest.json
R=$(jq -r .hashkv_revision "$M")
expect_eq record__revision_is_manifest_revision "$R" "$(jq -r .revision "$M")"
for u in "${CL_URLS[@]}"; do
	expect_eq "record__hashkv_equals_live_$(basename "$u")" "$(jq -r .hashkv "$M")" "$(hashkv "$u" "$R")"
done
expect_eq record__members_agree "$(jq -r '.hashkv_disagreement // "none"' "$M")" none
expect_match record__verify_deep_logged "$(cat "$T/e")" "verify-deep: backup $ID read back"
if version_ge "$EB_ETCD_VERSION" 3.6; then
	expect_eq record__storage_version "$(jq -r .storage_version "$M")" "$EB_ETCD_VERSION.0"
else
	expect_eq record__no_storage_version "$(jq -r '.storage_version // "none"' "$M")" none
fi
check record__verify_deep "$BACKUP" verify --from "$S" --backup "$ID" --deep

CASE=tampered
# change one value inside the snapshot; fix the trailer, both snapshot
# digests, the object and its digests: every sha256 matches, the keyspace
# does not
zstd -qdc "$S/$ID.snapshot.db.zst" >"$T/snap.db"
python3 - "$T/snap.db" <<'PY' || die "could not tamper"
import hashlib, sys
p = sys.argv[1]; d = bytearray(open(p, "rb").read()[:-32])
i = d.find(b"VICTIM-VALUE-0123456789")
if i < 0: raise SystemExit("value not found")
while i >= 0:
    d[i + 7] = ord("X"); i = d.find(b"VICTIM-VALUE-0123456789", i + 1)
open(p, "wb").write(bytes(d) + hashlib.sha256(d).digest())
PY
zstd -q -f "$T/snap.db" -o "$S/$ID.snapshot.db.zst"
jq --arg ss "$(sha256sum <"$T/snap.db" | cut -d' ' -f1)" --arg ds "$(tail -c 32 "$T/snap.db" | od -An -tx1 | tr -d ' \n')" \
	--arg os "$(sha256sum <"$S/$ID.snapshot.db.zst" | cut -d' ' -f1)" --argjson on "$(stat -c %s "$S/$ID.snapshot.db.zst")" \
	'.snapshot_sha256 = $ss | .db_sha256 = $ds | .stored_sha256 = $os | .stored_size = $on' "$M" >"$T/m" && cp "$T/m" "$M"
check tampered__plain_verify_passes "$BACKUP" verify --from "$S" --backup "$ID"
"$BACKUP" verify --from "$S" --backup "$ID" --deep >"$T/v" 2>&1
expect_eq tampered__deep_exits_5 "$?" 5
expect_match tampered__deep_says_keyspace "$(cat "$T/v")" "another keyspace than the cluster had"

CASE=diverged
# member 3's own database changed while it was stopped: it serves (and
# hashes) data the others do not have
stop_pid "${CL_PIDS[2]}"
python3 - "${CL_DIRS[2]}/data/member/snap/db" <<'PY' || die "could not change the member"
import sys
p = sys.argv[1]; d = bytearray(open(p, "rb").read())
i = d.find(b"VICTIM-VALUE-0123456789")
if i < 0: raise SystemExit("value not found")
while i >= 0:
    d[i + 7] = ord("Y"); i = d.find(b"VICTIM-VALUE-0123456789", i + 1)
open(p, "wb").write(bytes(d))
PY
IC=$(IFS=,; for i in 0 1 2; do printf '%s%s=%s' "$([ $i -gt 0 ] && echo ,)" "${CL_NAMES[$i]}" "${CL_PEERS[$i]}"; done)
etcd_start_member 2 "$IC" h-token
wait_answers "${CL_URLS[2]}" "${CL_PIDS[2]}" || die "the changed member did not start: $(tail -3 "${CL_DIRS[2]}/etcd.log")"
S2=$T/store2
out=$("$BACKUP" snapshot --endpoints "$CL_ENDPOINTS" --member "${CL_URLS[0]}" --to "$S2" --no-progress 2>"$T/e2")
expect_eq diverged__exits_7 "$?" 7
expect_match diverged__names_member "$(cat "$T/e2")" "members disagree on HashKV.*${CL_URLS[2]}"
ID2=$(sed -n 's/^backup \([^ ]*\) .*/\1/p' <<<"$out")
expect_match diverged__recorded "$(jq -r '.hashkv_disagreement // ""' "$S2/$ID2.manifest.json")" "${CL_URLS[2]}"
check diverged__backup_kept_and_verifies "$BACKUP" verify --from "$S2" --backup "$ID2" --deep
[ "$_NFAIL" -eq 0 ]
