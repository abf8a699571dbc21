#!/usr/bin/env bash
# versions: all
# san: yes
# etcd-backup inspect: the numbers of `eutl snapshot status`, the
# spec's HashKV test vector, HashKV equal to the live member's at the
# snapshot revision, corrupt inputs reported with exit 5, and inspect of a
# backup fetched from a local store.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/restore_common.sh"
INSPECT="$BACKUP inspect"

jget() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get(sys.argv[1]))' "$1"; }

CASE=vector
etcd_cluster vec 1
U=${CL_URLS[0]}
ectl "$U" put foo bar >/dev/null; ectl "$U" put foo bar2 >/dev/null; ectl "$U" put k1 v1 >/dev/null
ectl "$U" txn <<<$'\nput a 1\nput b 2\n\n' >/dev/null
ectl "$U" del k1 >/dev/null; ectl "$U" put k2 v2 >/dev/null; ectl "$U" compact 3 >/dev/null
ectl "$U" put k3 v3 >/dev/null; ectl "$U" put foo bar3 >/dev/null; ectl "$U" del a >/dev/null
ectl "$U" snapshot save "$T/vec.db" >/dev/null 2>&1 || die "snapshot save failed"
j=$($INSPECT -w json "$T/vec.db")
expect_eq spec_hashkv_vector "$(jget hashKV <<<"$j")" 2871508487
expect_eq spec_vector_live_hashkv "$(jget hashKV <<<"$j")" "$(hashkv "$U" 10)"
expect_eq spec_vector_compact_rev "$(jget compactRevision <<<"$j")" 3

CASE=status
populate "$U" 400 || die "populate failed"
ectl "$U" snapshot save "$T/snap.db" >/dev/null 2>&1 || die "snapshot save failed"
j=$($INSPECT -w json "$T/snap.db")
s=$(eutl snapshot status -w json "$T/snap.db")
for f in hash revision totalKey totalSize; do
	expect_eq "status_$f" "$(jget $f <<<"$j")" "$(jget $f <<<"$s")"
done
REV=$(jget revision <<<"$j")
expect_eq hashkv_equals_live "$(jget hashKV <<<"$j")" "$(hashkv "$U" "$REV")"
expect_eq sha_ok "$(jget sha256 <<<"$j")" ok
expect_eq structure_ok "$(jget structure <<<"$j")" ok
t=$($INSPECT "$T/snap.db")
expect_match table_output "$t" 'HASH.*REVISION.*TOTAL KEYS'
P=http://127.0.0.1:$(free_port)
"$RESTORE" --from "$T/snap.db" --name r --initial-cluster "r=$P" --initial-advertise-peer-urls "$P" --data-dir "$T/r" >/dev/null 2>&1
j2=$($INSPECT -w json "$T/r/member/snap/db")
expect_eq restored_db_same_hashkv "$(jget hashKV <<<"$j2")" "$(jget hashKV <<<"$j")"
expect_eq restored_db_sha_absent "$(jget sha256 <<<"$j2")" absent

CASE=corrupt
DB=$(($(stat -c %s "$T/snap.db") - 32))
cp "$T/snap.db" "$T/flip.db"
# flip the byte (writing 0xff changed nothing when it already was 0xff: a flaky check)
python3 -c 'import sys; f=open(sys.argv[1],"r+b"); o=int(sys.argv[2]); f.seek(o); b=f.read(1)[0]; f.seek(o); f.write(bytes([b ^ 0xff]))' "$T/flip.db" $((DB / 2))
$INSPECT -w json "$T/flip.db" >"$T/o" 2>&1; rc=$?
expect_eq flipped_exit_5 "$rc" 5
expect_eq flipped_sha_mismatch "$(jget sha256 <"$T/o")" MISMATCH
# damage the flags of the root page (always reachable), re-seal the trailer
python3 -c '
import hashlib, struct, sys
d = bytearray(open(sys.argv[1], "rb").read()[:int(sys.argv[3])])
root = struct.unpack_from("<Q", d, 32)[0]
d[root * 4096 + 8] ^= 0xff
open(sys.argv[2], "wb").write(bytes(d) + hashlib.sha256(bytes(d)).digest())' "$T/snap.db" "$T/bad.db" "$DB"
$INSPECT "$T/bad.db" >"$T/o" 2>&1; rc=$?
expect_eq structure_exit_5 "$rc" 5
expect_match structure_reported "$(cat "$T/o")" 'structure: +CORRUPT: page'

CASE=store
if "$BACKUP" snapshot --to "$T/store" --endpoints "$U" >"$T/snapshot.log" 2>&1; then
	j=$($INSPECT -w json --from "$T/store" --backup latest)
	expect_eq store_inspect_structure "$(jget structure <<<"$j")" ok
	expect_eq store_inspect_hashkv "$(jget hashKV <<<"$j")" "$(hashkv "$U" "$(jget revision <<<"$j")")"
	out=$($INSPECT --from "$T/store" --backup nope 2>&1); rc=$?
	expect_eq store_missing_backup_exit "$rc" 8
else
	fail store_snapshot "etcd-backup snapshot failed: $(tail -3 "$T/snapshot.log")"
fi
exit 0
