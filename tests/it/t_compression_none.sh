#!/usr/bin/env bash
# --compression none stores exactly the etcdctl file; a second backup lists
# first; prune keeps what the flags say and --dry-run deletes nothing.
. "$(dirname "$0")/../lib.sh"

etcd_cluster c 1
EP=${CL_URLS[0]}
put_keys "$EP" a/ 10
ectl "$EP" snapshot save "$T/ctl.db" >/dev/null 2>&1
"$BACKUP" snapshot --endpoints "$EP" --to "$T/store" --compression none >"$T/o1" 2>/dev/null
expect_eq "uncompressed snapshot exits 0" "$?" 0
ID1=$(sed -n 's/^backup \([^ ]*\) .*/\1/p' "$T/o1")
check "stored object is the etcdctl file itself" cmp "$T/store/$ID1.snapshot.db" "$T/ctl.db"
expect_eq "manifest says compression none" "$(jq -r .compression "$T/store/$ID1.manifest.json")" none
sleep 1.1
ectl "$EP" put more 1 >/dev/null
"$BACKUP" snapshot --endpoints "$EP" --to "$T/store" -o json >"$T/o2" 2>/dev/null
expect_eq "snapshot -o json prints the manifest" "$(jq -r .compression "$T/o2")" zstd
ID2=$(jq -r .id "$T/o2")
expect_eq "newest backup lists first" "$("$BACKUP" list --from "$T/store" -o json | jq -r '.[0].id')" "$ID2"
"$BACKUP" prune --from "$T/store" --keep-last 1 --dry-run -o json >"$T/p1" 2>/dev/null
expect_eq "prune --dry-run reports the old backup" "$(jq -c .deleted "$T/p1")" "[\"$ID1\"]"
expect_eq "prune --dry-run deletes nothing" "$(ls "$T/store" | wc -l)" 4
check "prune --keep-last 1" "$BACKUP" prune --from "$T/store" --keep-last 1
expect_eq "prune left one backup (2 files)" "$(ls -A "$T/store" | wc -l)" 2
check "the kept backup is the newest" test -f "$T/store/$ID2.manifest.json"
check_fails "prune without a rule is a usage error" "$BACKUP" prune --from "$T/store"
