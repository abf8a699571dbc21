#!/usr/bin/env bash
# san: yes
# tsan: yes
# etcd-restore refuses bad input with a clear error and leaves nothing
# behind: truncated, bit-flipped, hash-mismatched, random and empty
# snapshots; structural damage behind a recomputed trailer; inconsistent
# cluster flags; a non-empty target.  Each case: non-zero exit, a message
# naming the cause, no target dir and no temp dir.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/restore_common.sh"

CASE=setup
etcd_cluster src 1
SRC=${CL_URLS[0]}
populate "$SRC" 300 || die "populate failed"
ectl "$SRC" snapshot save "$T/snap.db" >/dev/null 2>&1 || die "snapshot save failed"
SIZE=$(stat -c %s "$T/snap.db")
SUM=$(md5sum <"$T/snap.db")
DB=$((SIZE - 32))
mkdir "$T/in"

# with_trailer SRC DST: DST = first DB bytes of SRC + their sha256.
with_trailer() {
	python3 -c 'import hashlib,sys; d=open(sys.argv[1],"rb").read()[:int(sys.argv[3])]; open(sys.argv[2],"wb").write(d+hashlib.sha256(d).digest())' "$1" "$2" "$3"
}
# flip FILE OFFSET: xor one byte with 0x40.
flip() { python3 -c 'import sys; f=open(sys.argv[1],"r+b"); o=int(sys.argv[2]); f.seek(o); b=f.read(1); f.seek(o); f.write(bytes([b[0]^0x40]))' "$1" "$2"; }

head -c $((SIZE - 1000)) "$T/snap.db" >"$T/in/truncated"
head -c $((4096 * 5 + 32)) "$T/snap.db" >"$T/in/truncated_at_page" # looks trailer-sized
cp "$T/snap.db" "$T/in/bitflip"; flip "$T/in/bitflip" $((DB / 2 + 123))
cp "$T/snap.db" "$T/in/hash_mismatch"; printf '%032d' 0 | dd of="$T/in/hash_mismatch" bs=1 seek="$DB" conv=notrunc 2>/dev/null
head -c $((4096 * 8 + 32)) /dev/urandom >"$T/in/random"
: >"$T/in/empty"
head -c "$DB" "$T/snap.db" >"$T/in/no_trailer"
# structural damage with a valid trailer: the hash passes, the bbolt check must not
# the root page is always reachable (a free page may legitimately hold anything)
ROOT=$(python3 -c 'import struct,sys; print(struct.unpack_from("<Q", open(sys.argv[1],"rb").read(40), 32)[0])' "$T/snap.db")
cp "$T/snap.db" "$T/in/x"; flip "$T/in/x" $((4096 * ROOT + 1)); with_trailer "$T/in/x" "$T/in/bad_page_id" "$DB"
cp "$T/snap.db" "$T/in/x"; flip "$T/in/x" 20; with_trailer "$T/in/x" "$T/in/bad_meta" "$DB"
with_trailer "$T/snap.db" "$T/in/short_db" $((DB - 4096 * 2))

P=http://127.0.0.1:$(free_port)
base=(--name m --initial-cluster "m=$P" --initial-advertise-peer-urls "$P")

# bad NAME REGEX ARGS...: restore must fail with REGEX in stderr and leave no dir.
bad() {
	local name=$1 re=$2; shift 2
	local out rc
	out=$("$RESTORE" "$@" 2>&1); rc=$?
	if [ $rc -eq 0 ]; then fail "$name" "restore succeeded"; rm -rf "$T/out"; return; fi
	if [ $rc -gt 128 ]; then fail "$name" "crashed with status $rc: $out"; return; fi
	case $name in
	*flip*|*trunc*|*hash*|*random*|empty|no_trailer|bad_page_id|bad_meta|short_db|all_members_corrupt)
		expect_eq "${name}_exit_integrity" "$rc" 5 ;;
	esac
	expect_match "$name" "$out" "$re"
	echo "  $name: $out"
	if [ -e "$T/out" ] || ls -a "$T" | grep -q 'restore-'; then
		fail "${name}_left_nothing" "output or temp dir left behind"; rm -rf "$T/out" "$T"/.*restore-*
	else
		pass "${name}_left_nothing"
	fi
}

CASE=inputs
bad truncated 'truncated|no sha256 trailer' --from "$T/in/truncated" "${base[@]}" --data-dir "$T/out"
bad truncated_skip_hash 'truncated|corrupt|out of bounds' --from "$T/in/truncated" --skip-hash-check "${base[@]}" --data-dir "$T/out"
bad truncated_at_page 'hash mismatch' --from "$T/in/truncated_at_page" "${base[@]}" --data-dir "$T/out"
bad truncated_at_page_skip 'truncated|out of bounds|high-water' --from "$T/in/truncated_at_page" --skip-hash-check "${base[@]}" --data-dir "$T/out"
bad bitflip 'hash mismatch' --from "$T/in/bitflip" "${base[@]}" --data-dir "$T/out"
bad hash_mismatch 'hash mismatch' --from "$T/in/hash_mismatch" "${base[@]}" --data-dir "$T/out"
bad random_bytes 'hash mismatch' --from "$T/in/random" "${base[@]}" --data-dir "$T/out"
bad random_bytes_skip 'not a bbolt database' --from "$T/in/random" --skip-hash-check "${base[@]}" --data-dir "$T/out"
bad empty 'truncated or not a snapshot' --from "$T/in/empty" "${base[@]}" --data-dir "$T/out"
bad missing_file 'No such file' --from "$T/in/nope" "${base[@]}" --data-dir "$T/out"
bad no_trailer 'skip-hash-check' --from "$T/in/no_trailer" "${base[@]}" --data-dir "$T/out"
bad bad_page_id 'page [0-9]+: header carries id' --from "$T/in/bad_page_id" "${base[@]}" --data-dir "$T/out"
bad bad_meta 'meta page 0' --from "$T/in/bad_meta" "${base[@]}" --data-dir "$T/out"
bad short_db 'truncated or corrupt|out of bounds' --from "$T/in/short_db" "${base[@]}" --data-dir "$T/out"
bad all_members_corrupt 'hash mismatch' --from "$T/in/bitflip" --all-members "$T/out" --initial-cluster "a=$P,b=http://127.0.0.1:1"

CASE=flags
bad name_not_in_cluster "couldn't find local name x" --from "$T/snap.db" --name x --initial-cluster "m=$P" --data-dir "$T/out"
bad advertise_mismatch 'does not match' --from "$T/snap.db" --name m --initial-cluster "m=$P" --initial-advertise-peer-urls http://127.0.0.1:9 --data-dir "$T/out"
bad duplicate_url 'duplicate url' --from "$T/snap.db" "${base[@]}" --initial-cluster "m=$P,o=$P" --data-dir "$T/out"
bad url_without_port 'port is required' --from "$T/snap.db" --name m --initial-cluster "m=http://127.0.0.1" --initial-advertise-peer-urls http://127.0.0.1 --data-dir "$T/out"
bad url_with_path 'no path' --from "$T/snap.db" --name m --initial-cluster "m=$P/x" --initial-advertise-peer-urls "$P/x" --data-dir "$T/out"
bad bad_scheme 'scheme must be' --from "$T/snap.db" --name m --initial-cluster "m=ftp://h:1" --initial-advertise-peer-urls ftp://h:1 --data-dir "$T/out"
bad bump_without_mark 'needs --mark-compacted' --from "$T/snap.db" "${base[@]}" --bump-revision 5 --data-dir "$T/out"
bad mark_without_bump 'needs --bump-revision' --from "$T/snap.db" "${base[@]}" --mark-compacted --data-dir "$T/out"
bad no_from 'required' "${base[@]}" --data-dir "$T/out"

CASE=target
mkdir -p "$T/out"; echo keep >"$T/out/precious"
out=$("$RESTORE" --from "$T/snap.db" "${base[@]}" --data-dir "$T/out" 2>&1); rc=$?
expect_eq nonempty_datadir_exit "$rc" 6
expect_match nonempty_datadir_msg "$out" 'not empty'
expect_eq nonempty_datadir_untouched "$(ls "$T/out")" precious
rm -rf "$T/out"; mkdir "$T/out"
"$RESTORE" --from "$T/snap.db" "${base[@]}" --data-dir "$T/out" >/dev/null 2>&1
check empty_datadir_is_accepted test -f "$T/out/member/snap/db"
mkdir -p "$T/wal"; echo x >"$T/wal/f"
out=$("$RESTORE" --from "$T/snap.db" "${base[@]}" --data-dir "$T/out2" --wal-dir "$T/wal" 2>&1)
expect_match nonempty_waldir_refused "$out" 'wal-dir .* not empty'
check nonempty_waldir_nothing_created test ! -e "$T/out2"
expect_eq snapshot_untouched "$(md5sum <"$T/snap.db")" "$SUM"
exit 0
