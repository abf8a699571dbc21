#!/usr/bin/env bash
# versions: all
# san: yes
# A snapshot whose sha256 trailer and bbolt structure are intact but that
# holds a record etcd cannot decode at boot (or never writes) is refused:
# etcd-restore exits 5 naming the bucket and key, writes no data dir and no
# temp dir; inspect calls the structure damaged (exit 5).  Each damaged
# snapshot is made by hand as an attacker would: one record changed in
# place, the trailer recomputed.  etcd refusing the first (etcdctl 3.4's
# restore, or etcd 3.5+ at boot on etcdutl's restore) proves the damage is
# one etcd itself cannot load.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/restore_common.sh"

CASE=setup
etcd_cluster src 1
SRC=${CL_URLS[0]}
populate "$SRC" 200 || die "populate failed"
ectl "$SRC" put victim-proto "value-of-the-victim" >/dev/null || die put
ectl "$SRC" put victim-rev "another-value" >/dev/null || die put
LEASE=$(ectl "$SRC" lease grant 600 | awk '{print $2}')
ectl "$SRC" put victim-leased x --lease "$LEASE" >/dev/null || die put
ectl "$SRC" snapshot save "$T/snap.db" >/dev/null 2>&1 || die "snapshot save failed"

# damage KIND OUT: one record of snap.db changed in place (every copy of it,
# free pages included), then the sha256 trailer recomputed.
damage() {
	python3 - "$T/snap.db" "$2" "$1" "$LEASE" <<'PY'
import hashlib, sys
src, out, kind, lease = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4], 16)
d = bytearray(open(src, "rb").read()[:-32])
def varint(n):
    b = b""
    while True:
        if n < 0x80: return b + bytes([n])
        b += bytes([n & 0x7f | 0x80]); n >>= 7
def each(pat):
    i, n = d.find(pat), 0
    while i >= 0:
        yield i; n += 1
        i = d.find(pat, i + 1)
    if n == 0: raise SystemExit("pattern not found for " + kind)
if kind == "kv_not_protobuf":      # KeyValue field 1 with wire type 3 (a group)
    for i in each(b"\x0a\x0cvictim-proto"): d[i] = 0x0b
elif kind == "kv_mod_revision":    # mod_revision != the record's revision
    for i in each(b"\x0a\x0avictim-rev\x10"):
        j = i + 13
        while d[j] & 0x80: j += 1
        assert d[j + 1] == 0x18
        d[j + 2] ^= 0x01
elif kind == "lease_not_protobuf": # leasepb.Lease field 2 with wire type 3
    for i in each(b"\x08" + varint(lease) + b"\x10"): d[i + 1 + len(varint(lease))] = 0x13
open(out, "wb").write(bytes(d) + hashlib.sha256(d).digest())
PY
}

for kind in kv_not_protobuf kv_mod_revision lease_not_protobuf; do
	CASE=$kind
	damage "$kind" "$T/$kind.db" || { fail "$kind" "could not make the damaged snapshot"; continue; }
	bucket=key; [ "$kind" = lease_not_protobuf ] && bucket=lease
	mkdir -p "$T/out-$kind"
	"$RESTORE" --from "$T/$kind.db" --data-dir "$T/out-$kind/m.etcd" >"$T/$kind.out" 2>"$T/$kind.err"
	expect_eq "${kind}__restore_exits_5" "$?" 5
	expect_match "${kind}__names_bucket" "$(cat "$T/$kind.err")" "bucket $bucket, key"
	expect_eq "${kind}__nothing_left" "$(ls -A "$T/out-$kind")" ""
	"$BACKUP" inspect "$T/$kind.db" -w json >"$T/$kind.ins" 2>&1
	expect_eq "${kind}__inspect_exits_5" "$?" 5
	expect_match "${kind}__inspect_reports" "$(cat "$T/$kind.ins")" "bucket $bucket"
done
CASE=etcd
# etcd itself cannot load the first one: etcdctl 3.4's restore refuses it;
# etcdutl 3.5+ copies it, and etcd then dies at boot rebuilding its index
if [ "$EB_ETCD_VERSION" = 3.4 ]; then
	if eutl snapshot restore "$T/kv_not_protobuf.db" --data-dir "$T/ctl.etcd" >"$T/ctl.out" 2>&1; then
		fail etcd__refuses_kv_not_protobuf "etcdctl restored it: the damage is not one etcd refuses"
	else
		pass etcd__refuses_kv_not_protobuf
	fi
else
	P=http://127.0.0.1:$(free_port)
	eutl snapshot restore "$T/kv_not_protobuf.db" --name x1 --initial-cluster "x1=$P" \
		--initial-advertise-peer-urls "$P" --data-dir "$T/ctl.etcd" >"$T/ctl.out" 2>&1 || die "etcdutl restore failed"
	start_restored x1 "$T/ctl.etcd" "x1=$P" etcd-cluster "$P"
	for _ in $(seq 150); do kill -0 "$R_PID" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$R_PID" 2>/dev/null; then
		fail etcd__refuses_kv_not_protobuf "etcd still runs on etcdutl's restore of it after 15 s"
	else
		expect_match etcd__refuses_kv_not_protobuf "$(cat "$T/ctl.etcd.log")" "unmarshal"
	fi
fi
# and the intact snapshot restores (no false alarm on leases, auth, compaction)
"$RESTORE" --from "$T/snap.db" --data-dir "$T/good.etcd" >/dev/null 2>"$T/good.err"
expect_eq intact__restores "$?" 0
[ "$_NFAIL" -eq 0 ]
