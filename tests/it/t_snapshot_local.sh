#!/usr/bin/env bash
# versions: all
# Single member: snapshot into a local store; the backup is byte-identical to
# 'etcdctl snapshot save', restores with etcdctl, and etcd booted on the
# restored data serves the same keys and revision.  list/get/verify work and
# catch damage.
# san: yes
# tsan: yes
. "$(dirname "$0")/../lib.sh"

etcd_cluster s 1
EP=${CL_URLS[0]}
put_keys "$EP" key/ 50
ectl "$EP" del key/7 >/dev/null
ectl "$EP" put "key with spaces" "välue ünïcode" >/dev/null
"$TOP/build/rel/tools/eb_load" "$EP" 20 200000 blob/ || die "load failed"
REV=$(revision "$EP")

CASE=snapshot
ectl "$EP" snapshot save "$T/ctl.db" >/dev/null 2>&1 || die "etcdctl snapshot save failed"
out=$("$BACKUP" snapshot --endpoints "$EP" --to "$T/store" --tag pre-upgrade-1.29 --tag nightly 2>"$T/err")
rc=$?
expect_eq "snapshot exits 0" "$rc" 0
expect_match "summary line names id and revision" "$out" "^backup [0-9]{8}T[0-9]{6}Z-r$REV-[0-9a-f]{16}-[0-9a-f]{8} revision $REV "
ID=$(sed -n 's/^backup \([^ ]*\) .*/\1/p' <<<"$out")
expect_eq "the id names the cluster" "$(cut -d- -f3 <<<"$ID")" "$(jq -r .cluster_id "$T/store/$ID.manifest.json")"
check "object and manifest exist" test -f "$T/store/$ID.snapshot.db.zst" -a -f "$T/store/$ID.manifest.json"
zstd -qdc "$T/store/$ID.snapshot.db.zst" >"$T/obj.db"
check "zstd CLI decompresses the object to etcdctl's snapshot" same_snapshot "$T/obj.db" "$T/ctl.db"

CASE=manifest
M="$T/store/$ID.manifest.json"
expect_eq "manifest revision" "$(jq -r .revision "$M")" "$REV"
expect_eq "manifest tags" "$(jq -c .tags "$M")" '["pre-upgrade-1.29","nightly"]'
expect_eq "manifest snapshot sha256 = sha256 of the snapshot file" "$(jq -r .snapshot_sha256 "$M")" \
	"$(sha256sum "$T/obj.db" | cut -d' ' -f1)"
expect_eq "manifest stored sha256 = sha256 of object" "$(jq -r .stored_sha256 "$M")" \
	"$(sha256sum "$T/store/$ID.snapshot.db.zst" | cut -d' ' -f1)"
expect_eq "manifest db_sha256 = etcd trailer" "$(jq -r .db_sha256 "$M")" \
	"$(tail -c 32 "$T/obj.db" | od -An -tx1 | tr -d ' \n')"
expect_eq "manifest stored size" "$(jq -r .stored_size "$M")" "$(stat -c %s "$T/store/$ID.snapshot.db.zst")"
expect_eq "manifest cluster id = etcd's" "$(jq -r .cluster_id "$M")" \
	"$(ectl "$EP" endpoint status -w json | python3 -c 'import json,sys; print("%016x" % json.load(sys.stdin)[0]["Status"]["header"]["cluster_id"])')"
expect_eq "no temp files left in the store" "$(ls -A "$T/store" | grep -c '^\.')" 0

CASE=list
expect_match "list table shows the backup and tags" "$("$BACKUP" list --from "$T/store")" "$ID .*pre-upgrade-1.29,nightly"
expect_eq "list -o json is an array of manifests" "$("$BACKUP" list --from "file://$T/store" -o json | jq -r '.[0].id')" "$ID"

CASE=get
check "get latest writes the snapshot" "$BACKUP" get --from "$T/store" --backup latest --output "$T/got.db"
check "get output is byte-identical to the stored snapshot" cmp "$T/got.db" "$T/obj.db"
check "get output is etcdctl snapshot save's" same_snapshot "$T/got.db" "$T/ctl.db"
check_fails "get refuses to overwrite an existing file" "$BACKUP" get --from "$T/store" --backup "$ID" --output "$T/got.db"

CASE=restore
eutl snapshot restore "$T/got.db" --name r1 --data-dir "$T/restored" \
	--initial-cluster r1=http://127.0.0.1:1 --initial-advertise-peer-urls http://127.0.0.1:1 >/dev/null 2>&1
check "etcdctl snapshot restore accepts the backup (hash checked)" test -d "$T/restored/member"
dump_kv "$EP" >"$T/src.kv"
stop_pid "${CL_PIDS[0]}"
RP=$(free_port)
etcd --name r1 --data-dir "$T/restored" --listen-client-urls "http://127.0.0.1:$RP" \
	--advertise-client-urls "http://127.0.0.1:$RP" --listen-peer-urls "http://127.0.0.1:$(free_port)" \
	>"$T/restored.log" 2>&1 &
track_pid $!
for _ in $(seq 50); do ectl "http://127.0.0.1:$RP" endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
dump_kv "http://127.0.0.1:$RP" >"$T/dst.kv"
check "restored etcd serves the same keys, values and revisions" cmp "$T/src.kv" "$T/dst.kv"
expect_eq "restored etcd has the same revision" "$(revision "http://127.0.0.1:$RP")" "$REV"
expect_eq "restored data holds the unicode key" "$(ectl "http://127.0.0.1:$RP" get "key with spaces" --print-value-only)" "välue ünïcode"

CASE=verify
check "verify latest passes" "$BACKUP" verify --from "$T/store"
cp "$T/store/$ID.snapshot.db.zst" "$T/saved.zst"
printf 'X' | dd of="$T/store/$ID.snapshot.db.zst" bs=1 seek=1000 conv=notrunc 2>/dev/null
"$BACKUP" verify --from "$T/store" --backup "$ID" >"$T/v.out" 2>&1
expect_eq "verify of a damaged object exits 5 (integrity)" "$?" 5
expect_match "verify names the damage" "$(cat "$T/v.out")" "corrupt|sha256"
"$BACKUP" verify --from "$T/store" --backup "$ID" -o json >"$T/v.json" 2>/dev/null
expect_eq "verify -o json reports the damaged backup as not ok" "$(jq -r '.[0].ok' "$T/v.json")" false
expect_match "verify -o json carries the cause" "$(jq -r '.[0].error' "$T/v.json")" "corrupt|sha256"
"$BACKUP" get --from "$T/store" --backup "$ID" --output "$T/bad.db" 2>/dev/null
expect_eq "get of a damaged object exits 5" "$?" 5
check "get of a damaged object leaves no file" test ! -e "$T/bad.db"
expect_eq "get of a damaged object leaves no temp file" "$(ls -A "$T" | grep -c '^\.bad')" 0
cp "$T/saved.zst" "$T/store/$ID.snapshot.db.zst"
"$BACKUP" get --from "$T/store" --backup 20990101T000000Z-r1 --output "$T/x.db" 2>"$T/nf.err"
expect_eq "get of an unknown id exits 8 (not found)" "$?" 8
expect_match "not found message names the newest backup" "$(cat "$T/nf.err")" "newest is $ID"
